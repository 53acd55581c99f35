"""ClaudeTUI: tabs of streaming chats over one shared, bounded request pool, with a live stats panel.

The app owns one :class:`RequestPool` (built by ``services.open_pool``, as ``run`` builds its own, at
mount; only its SDK client waits for the SDK's import) and one :class:`Metrics`. Everything the app,
the metrics, the history recorder and the request log know comes from the pool's events: a listener
routes each event to the tab that submitted the job (``Job.correlation.group`` is the tab id, read
from the job's ``Submitted`` event) by buffering it in that tab's ChatView, which drains its buffer
in one message handler: the listener itself never renders.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.dom import NoScreen
from textual.containers import Horizontal
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane, Tabs

from claude_tui.backend import Backend
from claude_tui.engine.events import JobEvent, Submitted, is_terminal
from claude_tui.engine.job import Correlation, Job
from claude_tui.engine.metrics import Metrics
from claude_tui.engine.pool import RequestPool
from claude_tui.engine.models import model_ids
from claude_tui.engine.pricing import PriceTable
from claude_tui.engine.retry import RetryPolicy
from claude_tui.services import Services, close_pool, open_pool

from ..gc_policy import CollectorPolicy, start_up_done
from . import fmt, keys, remembered
from .chat_history import ChatHistory, StoredTurn, restored_turns
from .chat_settings import ChatSettings, with_thinking
from .commands import ClaudeCommands, PaletteCommand
from .screens.dialogs import ConfirmDialog, InputDialog
from .screens.history import HistoryScreen
from .themes import DEFAULT_THEME, load_all
from .widgets.chat_tabs import ChatTabs
from .tab_model import Messages, TabModel, Turn, with_cache_breakpoints
from .widgets.chat_header import ChatHeader
from .widgets.chat_view import ChatView
from .widgets.prompt_box import PromptHistory
from .widgets.stats_panel import StatsPanel
from .widgets import status_line
from .widgets.tab_strip import TabOverflow, tab_tooltip
from .titles import clip

if TYPE_CHECKING:
    from claude_tui.config import LimitSettings



class QuitDialog(ConfirmDialog):
    """The question Ctrl+Q asks while replies run (its own type, so a second Ctrl+Q means yes)."""


#: Below this many columns the stats panel (44 wide) leaves the row to the chat and F2 shows it over the
#: chat instead; the status bar then carries the essentials. At 120 the chat keeps 76 columns beside
#: it, the width an 80-column terminal gives it without the panel.
NARROW_WIDTH = 120
MAX_CONCURRENCY = 256

#: Actions that act on the main screen only (their keys are priority bindings so the prompt box
#: cannot swallow them; ``check_action`` turns them off while a dialog or another screen is up).
MAIN_SCREEN_ACTIONS = frozenset(
    {
        "new_tab",
        "close_tab",
        "next_tab",
        "prev_tab",
        "goto_tab",
        "toggle_stats",
        "concurrency",
        "cancel_request",
        "retry",
        "copy_reply",
        "copy_code",
        "history",
        "help",
        "goto_chat",
        "chat_settings",
        "regenerate",
        "edit_prompt",
        "clear_chat",
    }
)


class ClaudeTUI(App[int]):
    """The claude-tui terminal app."""

    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute, so subclasses elsewhere find it
    TITLE = "claude-tui"
    COMMANDS = App.COMMANDS | {ClaudeCommands}

    BINDINGS = [
        Binding("f1", "help", "Help", priority=True),
        Binding("question_mark", "help", "Help", show=False),  # not priority: "?" is text in the prompt
        Binding("ctrl+t", "new_tab", "New tab", priority=True),
        Binding("ctrl+w", "close_tab", "Close tab", priority=True),
        Binding("ctrl+pagedown", "next_tab", "Next tab", key_display="^PgDn", priority=True),
        Binding("ctrl+pageup", "prev_tab", "Prev tab", key_display="^PgUp", priority=True, show=False),
        Binding("f4", "goto_chat", "Chats", priority=True, show=False),  # the tab row's overflow mark names it
        Binding("escape", "cancel_request", "Cancel"),
        Binding("ctrl+r", "retry", "Retry", show=False),  # a failed reply's own line says "press Ctrl+R"
        Binding("f5", "regenerate", "Regenerate", priority=True, show=False),  # F1 and the palette list these
        Binding("f9", "edit_prompt", "Edit prompt", priority=True, show=False),
        Binding("ctrl+l", "clear_chat", "Clear chat", priority=True, show=False),
        Binding("f2", "toggle_stats", "Stats", priority=True),
        Binding("f3", "history", "History", priority=True),
        Binding("f6", "chat_settings", "Chat settings", priority=True, show=False),  # the chat's header names it
        Binding("f7", "concurrency(-1)", "Limit −", priority=True, show=False),  # in F1's help and the panel
        Binding("f8", "concurrency(1)", "Limit +", priority=True, show=False),
        Binding("ctrl+down", "concurrency(-1)", "Limit −", priority=True, show=False),
        Binding("ctrl+up", "concurrency(1)", "Limit +", priority=True, show=False),
        Binding("ctrl+o", "copy_reply", "Copy reply", show=False),  # F1 and the palette list it
        Binding("ctrl+g", "copy_code", "Copy code", show=False),
        Binding("alt+1", "goto_tab(1)", "Tab 1…9", key_display="alt+1…9", priority=True, show=False),
        *[Binding(f"alt+{n}", f"goto_tab({n})", f"Tab {n}", priority=True, show=False) for n in range(2, 10)],
    ]

    def __init__(
        self,
        backend: Backend,
        *,
        model: str,
        max_tokens: int,
        system: str | None,
        concurrency: int,
        policy: RetryPolicy,
        stall_timeout: float | None,
        prices: PriceTable | None = None,
        theme: str | None = None,
        show_stats: bool | None = None,
        user_theme_dir: Path | None = None,
        services: Services | None = None,
        limits: "LimitSettings | None" = None,
        thinking_budget: int | None = None,
        pinned: Iterable[str] = (),
        prompt_cache: bool = True,
    ) -> None:
        super().__init__()
        keys.install()  # Alt+1…9 from xterm/tmux/SSH (ESC + digit) as keys, not as ¡ ™ £
        self.prompt_cache = prompt_cache  # breakpoints on each chat's stable prefix (tab_model.with_cache_breakpoints)
        self.backend = backend
        # What a new chat starts with (the config's model, max_tokens, system); each chat then has its own.
        defaults = ChatSettings(model=model, max_tokens=max_tokens, system=system or None, thinking_budget=thinking_budget)
        self.defaults = with_thinking(defaults, True) if thinking_budget else defaults
        self._initial_concurrency = concurrency
        self.policy = policy
        self.stall_timeout = stall_timeout
        self.prices = prices
        self.limits = limits  # config.LimitSettings: the rate budget, as `run` has it (None: no pacing)
        self._requested_theme = theme
        self._show_stats = show_stats
        self._stats_docked = show_stats is not False  # beside the chat when the terminal is wide enough
        # The launch values of the settings the app remembers (ui/remembered.py), and those given on the
        # command line or in the environment for this launch, which win over a choice made in the app.
        self._launch: dict[str, object] = {"theme": theme, "concurrency": concurrency, "show_stats": show_stats}
        self._pinned = frozenset(pinned)
        self._stats_overlay = False  # shown over the chat (F2 on a narrow terminal)
        self._keys_panel_open = False  # Textual's "Keys" panel (palette), which Esc closes
        self._footer_cancel = False  # whether the footer shows Esc "Cancel" now
        self.user_theme_dir = user_theme_dir
        services = services or Services()
        self.history: ChatHistory | None = (
            ChatHistory(services.store, on_error=self._history_error) if services.store is not None else None
        )
        self.pool: RequestPool | None = None
        self.engine_ready = asyncio.Event()  # set once the pool's SDK client is open (imported off the UI thread)
        self.engine_gate: asyncio.Event | None = None
        self._spend_read_at = 0.0  # when the panel next reads the stored live/batch spend
        self._service_listeners = tuple(services.listeners())  # the history recorder, the request log
        self._recorder = services.recorder  # batches its writes on this app's loop: committed at close
        self._closing = False
        self._collector = CollectorPolicy()
        self.metrics: Metrics | None = None
        self.prompt_history = PromptHistory()
        self.chats: dict[str, ChatView] = {}
        self._order: list[str] = []
        self._job_tabs: dict[str, str] = {}
        self._tab_counter = 0
        self._unsubscribe: list[Callable[[], None]] = []
        self.theme_errors: list[str] = []
        self.loaded_themes: list[str] = []
        self.tabs = ChatTabs(id="tabs")
        self.stats_panel = StatsPanel(id="stats")
        self.statusbar = Static("", id="statusbar", markup=False)

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="main"):
            yield self.tabs
            yield self.stats_panel
        yield self.statusbar
        yield Footer()

    @property
    def concurrency_limit(self) -> int:
        return self.pool.limit if self.pool is not None else self._initial_concurrency

    @property
    def model(self) -> str:
        """The shown chat's model (a new chat's before any tab exists)."""
        chat = self.active_chat if self._order else None
        return chat.settings.model if chat is not None else self.defaults.model

    def _show_model(self) -> None:
        self.sub_title = f"{'SIMULATOR' if self.backend.simulated else self.backend.label} · {self.model}"

    async def on_mount(self) -> None:
        self._recall_settings()
        self._load_themes()
        self._start_theme: str | None = self.theme  # its own change signal (sent later) is not a choice
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._show_model()
        self.set_class(self.backend.simulated, "-simulated")
        self.metrics = Metrics(prices=self.prices)
        self.pool = pool = await open_pool(
            api_key=self.backend.api_key,
            base_url=self.backend.base_url,
            concurrency=self._initial_concurrency,
            policy=self.policy,
            stall_timeout=self.stall_timeout,
            prices=self.prices,
            limits=self.limits,
            defer_client=True,
        )
        self._unsubscribe.append(pool.add_listener(self.metrics.observe))
        for listener in (self._route, *self._service_listeners):  # the tabs and the history show/save the text
            self._unsubscribe.append(pool.add_listener(listener, deltas=True))
        # The SDK takes over a second to import: the pool opens its client in a thread after the first
        # frame; prompts sent meanwhile wait in the pool's queue, with their Queued events.
        self.run_worker(self._start_engine(), name="start engine", group="engine")
        self._fit_width(self.size.width)
        restored = False
        if self.history is not None:
            restored = await self._restore_tabs()
        if not restored:
            await self.new_tab()
        else:
            self._collector.freeze()  # restored conversations are long-lived: out of full collections
        self._refresh_stats()
        self.set_interval(0.5, self._refresh_stats)
        await self.tabs.query_one(Tabs).mount(TabOverflow())  # "◂3 5▸ F4" when tabs are out of view

    async def _start_engine(self) -> None:
        try:
            if self.engine_gate is not None:  # tests hold the engine back to see prompts wait for it
                await self.engine_gate.wait()
            if self._closing or self.pool is None:
                return
            await self.pool.open_client()
        finally:
            start_up_done()  # the screen is up and the SDK imported: the collector runs again (see gc_policy)
        self.engine_ready.set()
        self._refresh_stats()

    async def on_unmount(self) -> None:
        await self.close_pool()

    async def close_pool(self) -> None:
        self._closing = True
        self.remember_open_tabs()  # while the tabs are still here
        if self.pool is not None:
            pool, self.pool = self.pool, None
            await close_pool(pool)  # cancels what runs: listeners (history) still hear the Cancelled events
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._recorder is not None:  # its 0.1 s timer dies with this loop: the last batch goes in now
            self._recorder.flush()

    # -- the app's own settings, remembered across launches (ui/remembered.py) ---------------
    def _recall_settings(self) -> None:
        """Start with the theme, limit and panel chosen in the app last time, unless given for this
        launch or changed in the config since (remembered.resolve)."""
        if self.history is None:
            return
        values: dict[str, object] = {}
        for name in remembered.NAMES:
            choice = remembered.Choice.decode(self.history.remembered(remembered.key(name)))
            values[name], stale = remembered.resolve(self._launch[name], choice, pinned=name in self._pinned)
            if stale:
                self.history.remember(remembered.key(name), None)
        if isinstance(values["theme"], str):
            self._requested_theme = values["theme"]
        if isinstance(values["concurrency"], int) and not isinstance(values["concurrency"], bool):
            self._initial_concurrency = max(1, min(MAX_CONCURRENCY, values["concurrency"]))
        self._stats_docked = values["show_stats"] is not False

    def _theme_changed(self, theme: Theme) -> None:
        if theme.name == self._start_theme:
            self._start_theme = None
            return
        self._start_theme = None
        self._remember("theme", theme.name)

    def _remember(self, name: str, value: object) -> None:
        """A setting changed in the app: kept for the next launch, with the launch value it replaced."""
        if self.history is None or self._closing:
            return
        launch = self._launch[name]
        if name == "show_stats":
            same = (value is not False) == (launch is not False)  # None (the default) shows it
        else:
            same = value == (launch or DEFAULT_THEME if name == "theme" else launch)
        text = None if same else remembered.Choice(value, launch).encode()  # back to the launch value: forget
        self.history.remember(remembered.key(name), text)

    # -- themes ------------------------------------------------------------------------------
    def _load_themes(self) -> None:
        loaded = load_all(self.user_theme_dir)
        for theme in loaded.themes:
            self.register_theme(theme)
            self.loaded_themes.append(theme.name)
        self.theme_errors = list(loaded.errors)
        for error in loaded.errors:
            self.notify(error, title="theme not loaded", severity="warning", timeout=8)
        wanted = self._requested_theme or DEFAULT_THEME
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.notify(f"unknown theme {wanted!r}; using {DEFAULT_THEME}", severity="warning")
            if DEFAULT_THEME in self.available_themes:
                self.theme = DEFAULT_THEME

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Key help", "Every key of claude-tui, by area (F1)", self.action_help)
        yield SystemCommand("Go to chat", "Find an open chat by its title (F4)", self.action_goto_chat)

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None, time_format: str | None = None) -> str | None:
        """The palette's "Screenshot": Textual saves to ~/Downloads and fails where there is none;
        save where an export goes instead (Textual's notice names the file)."""
        if path is None:
            chat = self.active_chat
            path = str(self.default_export_path(chat).parent if chat is not None else Path.cwd())
        return super().deliver_screenshot(filename, path, time_format)

    def action_show_help_panel(self) -> None:
        super().action_show_help_panel()
        self._keys_panel_open = True
        self._refresh_footer()  # Esc now closes it

    def action_hide_help_panel(self) -> None:
        super().action_hide_help_panel()
        self._keys_panel_open = False
        self._refresh_footer()

    # -- routing engine events ---------------------------------------------------------------
    def _route(self, event: JobEvent) -> None:
        """Pool listener: O(1) per event — find the tab, buffer the event there."""
        if isinstance(event, Submitted):
            tab_id = event.job.correlation.group
            if tab_id is not None:
                self._job_tabs[event.job_id] = tab_id
        else:
            tab_id = self._job_tabs.get(event.job_id)
        if is_terminal(event):
            self._job_tabs.pop(event.job_id, None)
        chat = self.chats.get(tab_id) if tab_id is not None else None
        if chat is not None:
            chat.push_event(event)

    def _submit_turn(self, chat: ChatView, turn: Turn, messages: Messages) -> str:
        settings = chat.settings  # the chat's own: model, system prompt, max tokens, thinking
        if settings.thinking:
            settings = with_thinking(settings, True)  # the API wants budget < max_tokens (checked when set)
        stored = self._store_turn(chat, turn)
        cache_system = False
        if self.prompt_cache:
            messages, cache_system = with_cache_breakpoints(messages, system=settings.system, model=settings.model)
        job = Job(
            messages=messages,
            model=settings.model,
            max_tokens=settings.max_tokens,
            system=settings.system,
            thinking_budget=settings.thinking_budget,
            cache_system=cache_system,
            correlation=Correlation(group=chat.tab_id, conversation_id=stored.conversation_id, message_id=stored.message_id),
        )
        assert self.pool is not None  # created at mount, before any tab exists
        self.pool.submit(job, stream_events=False)
        return job.id

    def _cancel_job(self, job_id: str) -> bool:
        return self.pool.cancel(job_id) if self.pool is not None else False

    # -- tabs --------------------------------------------------------------------------------
    async def new_tab(self, title: str | None = None, *, focus: bool = True, settings: ChatSettings | None = None) -> ChatView:
        self._tab_counter += 1
        tab_id = f"t{self._tab_counter}"
        chat = ChatView(
            TabModel(tab_id, title or "new chat", auto_title=not title, settings=settings or self.defaults),
            submit=self._submit_turn,
            cancel=self._cancel_job,
            history=self.prompt_history,
            id=f"chat-{tab_id}",
        )
        self.chats[tab_id] = chat
        self._order.append(tab_id)
        pane = TabPane(chat.label(len(self._order)), chat, id=tab_id)
        await self.tabs.add_pane(pane)
        if focus:
            self.show_tab(tab_id)
        return chat

    def show_tab(self, tab_id: str) -> None:
        """Show a tab and give its prompt the keys, before the app handles another key."""
        self.tabs.active = tab_id
        self._focus_active_prompt()

    def _focus_active_prompt(self) -> None:
        """Focus the shown tab's prompt now.

        Not ``Widget.focus()``: that defers the move to a callback queued behind the keys already
        waiting for the app, so a burst typed right after Ctrl+T or Ctrl+PageDown went to the tab just
        left (5 of 5 prompts in a test that queues the keys at once). Setting the screen's focus here,
        inside the key's own action, means the next key is forwarded to the prompt on screen.
        """
        chat = self.active_chat
        if chat is None or self._closing:
            return
        prompt = chat.prompt
        try:
            screen = prompt.screen  # the main screen, even while a dialog is over it
        except NoScreen:
            return
        screen.set_focus(prompt)

    @property
    def tab_ids(self) -> list[str]:
        """The open tabs' ids, in the order their labels number them (1…9)."""
        return list(self._order)

    @property
    def active_chat(self) -> ChatView | None:
        active = self.tabs.active
        return self.chats.get(active) if active else None

    def _relabel(self, chat: ChatView | None = None) -> None:
        tabs = self.tabs
        for index, tab_id in enumerate(self._order, start=1):
            if chat is not None and chat.tab_id != tab_id:
                continue
            view = self.chats.get(tab_id)
            if view is None:
                continue
            try:
                tab = tabs.get_tab(tab_id)
            except Exception:  # the pane is still being mounted
                continue
            label = view.label(index)
            if tab.label_text != label:
                tab.label = label
                tab.tooltip = tab_tooltip(view)  # the whole title and what "#N" / "+N" mean

    @on(ChatView.StateChanged)
    def _chat_state_changed(self, message: ChatView.StateChanged) -> None:
        self._relabel(message.chat)
        self._refresh_footer()

    @on(ChatView.TurnFinished)
    def _turn_finished(self, message: ChatView.TurnFinished) -> None:
        self._name_conversation(message.chat, message.turn)
        self._collector.freeze()  # a finished reply lives as long as its tab: out of the collector's way
        self._refresh_stats()  # counts on the status bar move at once, not at the next tick

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, message: TabbedContent.TabActivated) -> None:
        stack = self.screen_stack
        if not stack or self._closing:
            return
        if len(stack) == 1:
            self._focus_active_prompt()  # a click on a tab label lands here too
        self._show_model()
        self._refresh_stats()
        self._refresh_footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MAIN_SCREEN_ACTIONS and len(self.screen_stack) > 1:
            return False
        # The footer shows Esc "Cancel" only while the tab has something to cancel (or Textual's Keys
        # panel is open, which Esc closes). Ctrl+R stays on: pressed with nothing to retry it says so.
        if action == "cancel_request":
            chat = self.active_chat
            return (chat is not None and chat.busy) or self._keys_panel_open
        return True

    def _refresh_footer(self) -> None:
        """Recompute the footer only when what it shows changes: a recompose per tab state change
        held the UI loop for 10–17 s in the storm test (12 tabs, 20 prompts in a burst)."""
        chat = self.active_chat
        shown = (chat is not None and chat.busy) or self._keys_panel_open
        if shown != self._footer_cancel and self.screen_stack and not self._closing:
            self._footer_cancel = shown
            self.refresh_bindings()

    def action_help(self) -> None:
        """F1 / ``?``: the app's keys by area, read from its bindings."""
        from .screens.help import KeyHelpScreen, app_bindings, key_rows

        self.push_screen(KeyHelpScreen(key_rows(app_bindings(self))))

    async def action_new_tab(self) -> None:
        await self.new_tab()

    async def action_close_tab(self) -> None:
        chat = self.active_chat
        if chat is None:
            return
        await self.close_tab(chat.tab_id)

    async def close_tab(self, tab_id: str) -> None:
        chat = self.chats.pop(tab_id, None)
        if chat is None:
            return
        index = self._order.index(tab_id)
        self._order.remove(tab_id)
        chat.cancel_all_quietly()
        self.remember_open_tabs()
        await self.tabs.remove_pane(tab_id)
        if not self._order:
            await self.new_tab()
        else:
            self.show_tab(self._order[min(index, len(self._order) - 1)])
        self._relabel()
        self._focus_active_prompt()

    def _activate(self, index: int) -> None:
        if not self._order:
            return
        self.show_tab(self._order[index % len(self._order)])

    def action_next_tab(self) -> None:
        current = self.tabs.active
        self._activate(self._order.index(current) + 1 if current in self._order else 0)

    def action_prev_tab(self) -> None:
        current = self.tabs.active
        self._activate(self._order.index(current) - 1 if current in self._order else 0)

    def action_goto_tab(self, number: int) -> None:
        if 1 <= number <= len(self._order):
            self.show_tab(self._order[number - 1])

    # -- quit --------------------------------------------------------------------------------
    async def action_quit(self) -> None:
        """Ctrl+Q: quit at once when nothing runs; while replies run, ask first (Ctrl+Q again = yes)."""
        running = sum(1 for chat in self.chats.values() if chat.busy)
        if not running or isinstance(self.screen, QuitDialog):
            self.exit()
            return
        replies = f"{running} reply" if running == 1 else f"{running} replies"
        kept = ("What has arrived is saved to history and shown when you come back."
                if self.history is not None else "History is off: what has arrived is lost.")
        question = f"{replies} still running. Quit anyway? {kept}"

        def answered(quit_now: bool | None) -> None:
            if quit_now:
                self.exit()

        self.push_screen(QuitDialog(question, yes="Quit"), answered)

    # -- requests ----------------------------------------------------------------------------
    async def action_cancel_request(self) -> None:
        if self._keys_panel_open:  # Textual's "Keys" panel (palette): Esc closes it first
            self.action_hide_help_panel()
            return
        chat = self.active_chat
        if chat is not None and chat.busy:
            await chat.cancel()

    def action_retry(self) -> None:
        chat = self.active_chat
        if chat is None:
            return
        if not chat.retry():
            self.notify("nothing to retry: the last request in this tab did not fail or get cancelled", timeout=3)

    # -- branches: regenerate, edit, clear (the history keeps what they replace) ----------------
    def _idle_chat(self) -> ChatView | None:
        """The shown tab, if nothing runs in it (a branch starts from a finished conversation)."""
        chat = self.active_chat
        if chat is not None and chat.busy:
            self.notify("this tab's reply is still running: Esc cancels it first", timeout=3)
            return None
        return chat

    def _supersede(self, chat: ChatView, kind: str, message_ids: Iterable[int | None] = ()) -> None:
        """Move the stored messages from the first of ``message_ids`` on (a clear: all of them) to an
        earlier branch, before the new turn stores its own."""
        if self.history is None or chat.conversation_id is None:
            return
        ids = [i for i in message_ids if i is not None]
        if kind == "clear" or ids:
            self.history.supersede(chat.conversation_id, None if kind == "clear" else min(ids), kind)

    def action_regenerate(self) -> None:
        """F5: the last prompt again with the same context; the old reply becomes an earlier branch."""
        chat = self._idle_chat()
        if chat is None:
            return
        if not chat.turns or not chat.turns[-1].finished:
            self.notify("nothing to regenerate in this tab yet", timeout=3)
            return
        self._supersede(chat, "regenerate", [chat.turns[-1].assistant_message_id])  # the prompt stays: the new
        chat.regenerate()  # reply answers the same stored message

    def action_edit_prompt(self) -> None:
        """F9: pick a prompt of this tab (newest first), edit it, resend from there."""
        chat = self._idle_chat()
        if chat is None:
            return
        if not chat.turns:
            self.notify("no prompt to edit in this tab yet", timeout=3)
            return
        if len(chat.turns) == 1:
            self._edit_turn(chat, chat.turns[0])
            return
        commands: list[tuple[str, Callable[[], None], str | None]] = [
            (f"{n}. {clip(' '.join(turn.prompt.split()), 70)}", partial(self._edit_turn, chat, turn), None)
            for n, turn in reversed(list(enumerate(chat.turns, start=1)))]
        self.search_commands(commands, placeholder="Edit which prompt? (newest first)")

    def _edit_turn(self, chat: ChatView, turn: Turn) -> None:
        from .screens.edit_prompt import EditPromptScreen

        number = chat.turns.index(turn) + 1

        def done(text: str | None) -> None:
            if text is None or not text.strip() or turn not in chat.turns:
                return
            if chat.busy:
                self.notify("this tab's reply is still running: Esc cancels it first", timeout=3)
                return
            replaced = chat.turns[chat.turns.index(turn):]
            self._supersede(chat, "edit", [i for t in replaced for i in (t.user_message_id, t.assistant_message_id)])
            chat.edit(turn, text)

        self.push_screen(EditPromptScreen(turn.prompt, number=number, later=len(chat.turns) - number,
                                          history=self.prompt_history), done)

    def action_clear_chat(self) -> None:
        """Ctrl+L: empty the tab after a confirm; the next prompt starts a fresh context."""
        chat = self._idle_chat()
        if chat is None:
            return
        if not chat.turns:
            self.notify("this tab is empty already", timeout=3)
            return
        kept = ("The history keeps them as an earlier branch (claude-tui history show)." if self.history is not None
                else "History is off: they are gone.")
        count = len(chat.turns)

        def answered(clear: bool | None) -> None:
            if clear and not chat.busy:
                self._supersede(chat, "clear")
                chat.clear()

        self.push_screen(ConfirmDialog(f"Clear this chat's {count} turn{'s' if count != 1 else ''}? The next prompt "
                                       f"starts a fresh context. {kept}", yes="Clear"), answered)

    def action_error_details(self) -> None:
        """The last failed reply's details (its error line opens them too: a click, or Enter on it)."""
        chat = self.active_chat
        failed = next((t for t in reversed(chat.turns) if t.state == "failed"), None) if chat else None
        if chat is None or failed is None:
            self.notify("no failed reply in this tab", timeout=3)
            return
        chat.show_details(failed)

    @on(ChatView.DetailsWanted)
    def _details_wanted(self, message: ChatView.DetailsWanted) -> None:
        from .screens.error_details import ErrorDetailsScreen

        turn = message.turn
        stored = []  # a turn restored from history has no events: its attempt rows say what happened
        if turn.outcome is None and self.history is not None and turn.assistant_message_id is not None:
            stored = self.history.attempts_for(turn.assistant_message_id)
        self.push_screen(ErrorDetailsScreen(turn, stored))

    def action_concurrency(self, delta: int) -> None:
        self.set_concurrency(self.concurrency_limit + delta)

    def set_concurrency(self, value: int) -> None:
        value = max(1, min(MAX_CONCURRENCY, int(value)))
        self._initial_concurrency = value
        if self.pool is not None and value != self.pool.limit:
            self.pool.limit = value
        self._remember("concurrency", value)
        self._refresh_stats()
        self.notify(f"concurrency limit: {value}", timeout=2)

    # -- stats -------------------------------------------------------------------------------
    def action_toggle_stats(self) -> None:
        """F2: beside the chat when there is room (remembered across resizes), else over it."""
        if self.has_class("-narrow"):
            self._stats_overlay = not self._stats_overlay
        else:
            self._stats_docked = not self._stats_docked
            self._remember("show_stats", self._stats_docked)
        self._fit_width(self.size.width)
        self._refresh_stats()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_width(event.size.width)
        self._refresh_stats()
        for overflow in self.query(TabOverflow):
            overflow.call_after_refresh(overflow.recount)

    def action_goto_chat(self) -> None:
        """F4: every open chat, fuzzy by title; the choice comes back through dismiss."""
        from .screens.goto import GoToChatScreen

        chats = [(tab_id, str(n), self.chats[tab_id].title) for n, tab_id in enumerate(self._order, start=1) if tab_id in self.chats]

        def chosen(tab_id: str | None) -> None:
            if tab_id in self.chats:
                self.show_tab(tab_id)

        self.push_screen(GoToChatScreen(chats, current=self.tabs.active), chosen)

    @on(TabOverflow.Clicked)
    def _overflow_clicked(self) -> None:
        self.action_goto_chat()

    def _fit_width(self, width: int) -> None:
        """Narrow: the panel leaves the row to the chat (an overlay on F2); wide: the user's choice."""
        narrow = width < NARROW_WIDTH
        if narrow != self.has_class("-narrow"):
            self.set_class(narrow, "-narrow")
            self._stats_overlay = False  # an overlay opened while narrow does not outlive it
            for footer in self.query(Footer):
                footer.compact = narrow  # 80 columns hold the footer's keys only without its padding
        self.stats_panel.display = self._stats_overlay if narrow else self._stats_docked

    def _refresh_stats(self) -> None:
        if self.metrics is None:
            return
        snap = self.metrics.snapshot()
        self._collector.tick(busy=bool(snap.in_flight or snap.queued))
        limit = self.concurrency_limit
        marker = "◉ SIMULATOR" if self.backend.simulated else f"◉ {self.backend.label}"
        chat = self.active_chat if self._order else None
        in_tabs = sum(len(view.tab.pending) for view in self.chats.values())  # the tabs' "+N": queued too
        if self.has_class("-narrow"):
            bar = status_line.narrow_line(snap, marker=marker, model=self.model, limit=limit, width=self.size.width - 2, in_tabs=in_tabs)
        else:
            bar = status_line.wide_line(snap, marker=marker, model=self.model, limit=limit, in_tabs=in_tabs)
        self.statusbar.update(bar)
        panel = self.stats_panel
        if panel.display:
            if self.history is not None and time.monotonic() >= self._spend_read_at:
                # one small query every 30 s, not every tick: batch runs land from other processes
                panel.history_spend = self.history.spend_by_mode()
                self._spend_read_at = time.monotonic() + 30.0
            tab_metrics = self.metrics.for_tag(chat.tab_id) if chat is not None else None
            panel.show(snap, limit, tab_metrics.snapshot() if tab_metrics is not None else None, clip(chat.title, 38) if chat else "")

    # -- clipboard & export ------------------------------------------------------------------
    def action_copy_reply(self) -> None:
        chat = self.active_chat
        text = chat.last_reply if chat is not None else None
        if not text:
            self.notify("no reply to copy yet", timeout=2)
            return
        self.copy_to_clipboard(text)
        self.notify(f"copied the last reply ({len(text)} characters)", timeout=2)

    def action_copy_code(self) -> None:
        chat = self.active_chat
        code = chat.last_code_block if chat is not None else None
        if code is None:
            self.notify("no code block in this tab", timeout=2)
            return
        self.copy_to_clipboard(code)
        self.notify(f"copied the last code block ({len(code.splitlines())} lines)", timeout=2)

    def default_export_path(self, chat: ChatView) -> Path:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", chat.title[:40]).strip("-").lower() or "chat"
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return Path.cwd() / f"claude-tui-{slug}-{stamp}.md"

    def export_chat(self, chat: ChatView, path: Path) -> Path | None:
        try:
            path = path.expanduser()
            if path.is_dir():
                path = path / self.default_export_path(chat).name
            path.write_text(chat.to_markdown(), encoding="utf-8")
        except OSError as error:
            self.notify(f"could not write {path}: {error.strerror or error}", severity="error")
            return None
        self.notify(f"exported to {path}", title="conversation exported", timeout=4)
        return path

    def action_export(self) -> None:
        chat = self.active_chat
        if chat is None:
            return

        def done(value: str | None) -> None:
            if value and value.strip():
                self.export_chat(chat, Path(value.strip()))

        self.push_screen(
            InputDialog("Export conversation to Markdown", str(self.default_export_path(chat)), help="file or directory"), done
        )

    # -- settings from the palette -----------------------------------------------------------
    def palette_commands(self) -> Iterator[PaletteCommand]:
        """(name, callback, help) for every palette command of the app (``commands.ClaudeCommands``)."""
        yield "New tab", self.action_new_tab, "Open a new conversation tab (Ctrl+T)"
        yield "Close tab", self.action_close_tab, "Close the focused tab (Ctrl+W)"
        settings = chat.settings if (chat := self.active_chat) is not None else self.defaults
        yield "Chat settings…", self.action_chat_settings, "This chat's model, system prompt, max tokens, thinking (F6)"
        yield "Model…", self.action_pick_model, f"Pick this chat's model (now {settings.model})"
        yield "System prompt…", self.action_edit_system, "Set or clear this chat's system prompt"
        yield "Max tokens…", self.action_edit_max_tokens, f"This chat's max output tokens per reply (now {settings.max_tokens})"
        yield "Concurrency…", self.action_edit_concurrency, f"Requests in flight at once (now {self.concurrency_limit})"
        yield "Concurrency +1", partial(self.action_concurrency, 1), "Raise the pool's limit by one (F8 / Ctrl+Up)"
        yield "Concurrency −1", partial(self.action_concurrency, -1), "Lower the pool's limit by one (F7 / Ctrl+Down)"
        yield (
            "Extended thinking on/off",
            self.action_toggle_thinking,
            f"This chat asks for thinking blocks, shown collapsed (now {'on' if settings.thinking else 'off'})",
        )
        yield "Theme…", self.action_pick_theme, f"Pick a theme (now {self.theme})"
        yield "Toggle stats panel", self.action_toggle_stats, "Show or hide the live stats panel (F2)"
        yield "Copy last reply", self.action_copy_reply, "Copy the focused tab's last reply to the clipboard (Ctrl+O)"
        yield "Copy last code block", self.action_copy_code, "Copy the last fenced code block of the focused tab (Ctrl+G)"
        yield "Export conversation to Markdown…", self.action_export, "Write the focused tab's conversation to a .md file"
        yield "Retry last request", self.action_retry, "Run the focused tab's failed or cancelled request again (Ctrl+R)"
        yield "Regenerate last reply", self.action_regenerate, "Send the last prompt again; the old reply stays in history (F5)"
        yield "Edit a prompt and resend…", self.action_edit_prompt, "Change an earlier prompt and continue from it (F9)"
        yield "Clear chat…", self.action_clear_chat, "Empty this tab and start a fresh context; history keeps it (Ctrl+L)"
        yield "Error details", self.action_error_details, "Status, request id, attempts and waits of the last failed reply"
        yield "Cancel request", self.action_cancel_request, "Cancel the focused tab's running or queued request (Esc)"
        if self.history is not None:
            yield "History…", self.action_history, "Browse, search and reopen past conversations (F3)"

    def model_choices(self) -> list[str]:
        models = model_ids()
        if self.model not in models:
            models.insert(0, self.model)
        return models

    def set_chat_settings(self, chat: ChatView, settings: ChatSettings) -> None:
        """``chat``'s next requests use ``settings``: shown in its header, kept with its conversation."""
        if settings == chat.settings:
            return
        chat.settings = settings
        if self.history is not None and chat.conversation_id is not None:
            self.history.save_settings(chat.conversation_id, settings)
        self._show_model()
        self._refresh_stats()

    def set_model(self, model: str) -> None:
        """The shown chat's model (palette "Model…")."""
        chat = self.active_chat
        if chat is None:
            return
        self.set_chat_settings(chat, replace(chat.settings, model=model))
        self.notify(f"model: {model} (this chat's next requests)", timeout=3)

    def action_chat_settings(self, focus: str = "model") -> None:
        """F6: the shown chat's settings in one screen; what it returns (dismiss) applies to that chat."""
        from .screens.chat_settings import ChatSettingsScreen

        chat = self.active_chat
        if chat is None:
            return

        def done(settings: ChatSettings | None) -> None:
            if settings is not None and chat.tab_id in self.chats:
                self.set_chat_settings(chat, settings)

        self.push_screen(ChatSettingsScreen(chat.settings, self.model_choices(), title=clip(chat.title, 40), focus=focus), done)

    @on(ChatHeader.Clicked)
    def _header_clicked(self) -> None:
        self.action_chat_settings()

    def action_pick_model(self) -> None:
        commands: list[tuple[str, Callable[[], None], str | None]] = [
            (m + ("  (current)" if m == self.model else ""), partial(self.set_model, m), None) for m in self.model_choices()]
        commands.append(("Other model id…", self._ask_model, "Type a model id"))
        self.search_commands(commands, placeholder="Pick a model…")

    def _ask_model(self) -> None:
        def done(value: str | None) -> None:
            if value and value.strip():
                self.set_model(value.strip())

        self.push_screen(InputDialog("Model id", self.model), done)

    def action_edit_system(self) -> None:
        self.action_chat_settings(focus="system")

    def action_edit_max_tokens(self) -> None:
        self.action_chat_settings(focus="max_tokens")

    def action_edit_concurrency(self) -> None:
        def check(value: str) -> str | None:
            ok = value.strip().isdigit() and 1 <= int(value) <= MAX_CONCURRENCY
            return None if ok else f"a whole number from 1 to {MAX_CONCURRENCY}, please"

        def done(value: str | None) -> None:
            if value:
                self.set_concurrency(int(value))

        self.push_screen(InputDialog("Requests in flight at once", str(self.concurrency_limit), validate=check), done)

    def action_toggle_thinking(self) -> None:
        """The shown chat's extended thinking on (its budget, max tokens kept above it) or off."""
        chat = self.active_chat
        if chat is None:
            return
        settings = with_thinking(chat.settings, not chat.settings.thinking)
        self.set_chat_settings(chat, settings)
        on_text = f"on (budget {settings.thinking_budget:,} tokens)" if settings.thinking_budget else "off"
        self.notify(f"extended thinking {on_text} for this chat", timeout=3)

    def action_pick_theme(self) -> None:
        self.search_themes()

    # -- history -----------------------------------------------------------------------------
    def _history_error(self, message: str) -> None:
        self.notify(message, severity="warning", timeout=5)

    def _store_turn(self, chat: ChatView, turn: Turn) -> StoredTurn:
        """Store the prompt and start its reply before the request goes out; the ids the job carries."""
        if self.history is None:
            return StoredTurn()
        settings = chat.settings
        if turn.assistant_message_id is not None and chat.conversation_id is not None:  # Ctrl+R: the failed
            self.history.supersede(chat.conversation_id, turn.assistant_message_id, "retry")  # reply, an earlier branch
        stored = self.history.start_turn(chat.conversation_id, title=chat.title, model=settings.model, system=settings.system,
                                         prompt=turn.prompt, user_message_id=turn.user_message_id)
        turn.user_message_id = stored.user_message_id
        turn.assistant_message_id = stored.message_id
        if stored.conversation_id is not None and chat.conversation_id is None:
            chat.tab.conversation_id = stored.conversation_id
            self.history.save_settings(stored.conversation_id, settings)  # max tokens and thinking too
            self.remember_open_tabs()
        return stored

    def _name_conversation(self, chat: ChatView, turn: Turn) -> None:
        """The first reply is in: the conversation keeps the tab's title (the start of the first prompt)."""
        if self.history is None or chat.conversation_id is None or chat.tab.titled or not chat.tab.auto_title:
            return
        if chat.turns and turn is chat.turns[0]:
            chat.tab.titled = True
            self.history.name(chat.conversation_id, chat.title)

    def remember_open_tabs(self) -> None:
        """The stored conversations of the open tabs, in tab order: reopened at the next start."""
        if self.history is None:
            return
        ids = [chat.conversation_id for tab_id in self._order if (chat := self.chats.get(tab_id)) is not None]
        shown = self.active_chat
        self.history.remember_open_tabs((cid for cid in ids if cid is not None),
                                        active=shown.conversation_id if shown is not None else None)

    async def _restore_tabs(self) -> bool:
        assert self.history is not None
        if self.history.notice:
            self.notify(self.history.notice, title="history", severity="warning", timeout=8)
        restored = False
        active = self.history.active_tab()  # before reopening the tabs saves them again
        for cid in self.history.open_tabs():
            restored |= await self.open_conversation(cid, focus=False) is not None
        if restored and self._order:
            left = next((t for t in self._order if self.chats[t].conversation_id == active), self._order[0])
            self.show_tab(left)  # the tab that had the focus at quit
        return restored

    async def open_conversation(self, cid: int, *, focus: bool = True) -> ChatView | None:
        """Show a stored conversation: its tab if open, else a new tab with its turns."""
        for chat in self.chats.values():
            if chat.conversation_id == cid:
                self.show_tab(chat.tab_id)
                return chat
        conv = self.history.load(cid) if self.history is not None else None
        if conv is None:
            return None
        settings = self.history.load_settings(cid, self.defaults) if self.history is not None else None
        chat = await self.new_tab(conv.title or f"chat {cid}", focus=focus, settings=settings)
        chat.tab.conversation_id = cid
        chat.tab.titled = True
        for restored in restored_turns(conv):
            chat.add_restored_turn(restored)
        self.remember_open_tabs()
        return chat

    def action_history(self) -> None:
        if self.history is None:
            self.notify("history is off (no store)", timeout=3)
            return

        async def chosen(cid: int | None) -> None:
            if cid is not None:
                await self.open_conversation(cid)

        self.push_screen(HistoryScreen(self.history), chosen)

    @on(HistoryScreen.Renamed)
    def _conversation_renamed(self, message: HistoryScreen.Renamed) -> None:
        for chat in self.chats.values():
            if chat.conversation_id == message.conversation_id:
                chat.tab.title = message.title
                chat.tab.auto_title = False
                self._relabel(chat)

    @on(HistoryScreen.Deleted)
    def _conversation_deleted(self, message: HistoryScreen.Deleted) -> None:
        for chat in self.chats.values():
            if chat.conversation_id == message.conversation_id:
                chat.tab.conversation_id = None  # new turns start a new conversation
                for turn in chat.turns:  # whose messages a retry or regenerate must store again
                    turn.user_message_id = turn.assistant_message_id = None
        self.remember_open_tabs()
