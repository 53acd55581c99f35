"""The tab row's helpers: how many tabs are scrolled out of view, and what a tab's label means.

Textual's ``Tabs`` already scrolls the active tab into view when it changes; with many tabs the
others slide off either end without a trace. ``TabOverflow`` sits at the right end of the row and
says how many are hidden on each side (``◂3 5▸``) and which key lists them all (F4, the go-to-chat
picker; a click opens it too). It follows the row's own reactives (scroll position, content width,
the active tab), so nothing polls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events
from textual.message import Message
from textual.widgets import Static, Tab, Tabs

if TYPE_CHECKING:
    from .chat_view import ChatView


class TabOverflow(Static):
    """``◂3 5▸ F4``: tabs hidden left and right of the row's visible part; hidden when none are."""

    DEFAULT_CSS = """
    TabOverflow {
        dock: right;
        width: auto;
        height: 1;
        padding: 0 1;
        display: none;
    }
    """

    class Clicked(Message):
        """The indicator was clicked: show every tab (the go-to-chat picker)."""

    def __init__(self, *, key: str = "F4") -> None:
        super().__init__("", id="tab-overflow", markup=False)
        self.key = key
        self.hidden: tuple[int, int] = (0, 0)
        self.tooltip = f"tabs out of view on each side; {key} or a click lists every chat"

    def on_mount(self) -> None:
        tabs = self.tabs
        scroll = tabs.query_one("#tabs-scroll")
        self.watch(scroll, "scroll_x", self._changed, init=False)
        self.watch(scroll, "virtual_size", self._changed, init=False)
        self.watch(tabs, "active", self._changed, init=False)
        self.watch(self, "display", self._changed, init=False)  # shown or hidden: the row's width changed
        self.recount()

    @property
    def tabs(self) -> Tabs:
        parent = self.parent
        assert isinstance(parent, Tabs), "TabOverflow is mounted in a Tabs row"
        return parent

    def _changed(self, *_: Any) -> None:
        self.call_after_refresh(self.recount)  # positions are known after the layout

    def recount(self) -> None:
        """Count the tabs wholly or partly outside the row's visible part."""
        if not self.is_attached:
            return
        tabs = self.tabs
        scroll = tabs.query_one("#tabs-scroll")
        start, end = scroll.scroll_x, scroll.scroll_x + scroll.size.width
        active = tabs.active_tab
        if active is not None and (active.virtual_region.x < start or active.virtual_region.right > end):
            # A label grew (a state badge) or this mark took room: bring the active tab back in.
            scroll.scroll_to_center(active, animate=False, force=True)  # moves scroll_x: counted again then
            return
        left = right = 0
        for tab in tabs.query(Tab):
            region = tab.virtual_region
            if region.x < start:
                left += 1
            elif region.right > end:
                right += 1
        self.hidden = (left, right)
        if left or right:
            parts = ([f"◂{left}"] if left else []) + ([f"{right}▸"] if right else []) + [self.key]
            self.update(" ".join(parts))
        self.display = bool(left or right)

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked())


def tab_tooltip(chat: "ChatView") -> str:
    """The whole title (labels clip it) and what the label's badges mean."""
    tab = chat.tab
    lines = [tab.title, f"state: {tab.state}"]
    waiting = len(tab.pending) if tab.active is not None else 0
    if tab.state == "queued" and tab.active is not None:
        lines.append(f"#{tab.active.position + 1}: its place in the shared queue (the concurrency limit is reached)")
    if waiting:
        prompts = "prompt" if waiting == 1 else "prompts"
        lines.append(f"+{waiting}: {waiting} more {prompts} sent in this tab, waiting for its reply to finish "
                     "(a tab runs one request at a time); counted in the panel's and status bar's \"queued\"")
    return "\n".join(lines)
