"""StreamingMarkdown: one reply's body, streamed in live as Markdown.

Design (numbers in benchmarks/README-render.md):

* ``append()`` is synchronous and O(1): fragments go to a pending list and a
  background pump is woken.  The pump joins whatever piled up, re-parses only
  from the start of the last top-level block (Textual's ``Markdown.append``
  rule), asks for a layout and then waits for the screen to refresh before
  looking again – so there is at most one parse per frame however fast the
  tokens arrive.

* A top-level block is *settled* once markdown-it says a later top-level block
  has started.  Settled blocks are rendered once (per width/theme) to strips
  and never parsed or rendered again; only the last, still-growing block is
  re-rendered each frame.

* The whole reply is ONE leaf widget.  Textual's compositor arranges every
  widget of the screen on each layout pass, and Textual's ``Markdown`` makes a
  small tree of widgets per block, so per-frame cost grew with the reply and
  with the conversation.  Here the height of a reply is ``len(lines)``
  (``get_content_height``) and ``render_line(y)`` is a list lookup, so a
  finished reply costs next to nothing per frame.

* Rendering (``markdown_render``) follows Textual's Markdown CSS: same theme
  variables, margins, bullets, tables with keylines, and fences highlighted by
  ``MarkdownFence.highlight``.  Width and theme changes re-render from the
  stored tokens.
"""

from __future__ import annotations

import asyncio
from typing import Any

from markdown_it.token import Token
from textual import events
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from claude_tui.ui.widgets.markdown_render import (
    MarkdownTheme,
    parse,
    render_block,
    scroll_wide,
    split_blocks,
)

__all__ = ["StreamingMarkdown", "extract_code_blocks"]

#: Give up waiting for a screen refresh after this long (e.g. hidden screen).
REFRESH_TIMEOUT = 0.25


def extract_code_blocks(markdown: str) -> list[str]:
    """Return the contents of the fenced code blocks in ``markdown``."""
    return [
        token.content.rstrip("\n") for token in parse(markdown) if token.type == "fence"
    ]


class StreamingMarkdown(Widget):
    """One reply's body: Markdown that grows as token deltas arrive."""

    DEFAULT_CSS = """
    StreamingMarkdown {
        height: auto;
        width: 1fr;
        padding: 0 2;
    }
    """

    ALLOW_SELECT = False

    def __init__(
        self,
        markdown: str = "",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._sm_parts: list[str] = [markdown] if markdown else []
        self._sm_joined: str | None = markdown
        self._sm_pending: list[str] = [markdown] if markdown else []
        # Source of the live (last) top-level block, plus anything after it.
        self._sm_tail_source = ""
        # Settled blocks (tokens), and how many of them are rendered.
        self._sm_blocks: list[str] = []
        self._sm_block_tokens: dict[int, list[Token]] = {}
        self._sm_rendered_blocks = 0
        self._sm_lines: list[Strip] = []
        self._sm_bottom_margin = 0
        # The live block.
        self._sm_tail_tokens: list[Token] | None = None
        self._sm_tail_lines: list[Strip] = []
        self._sm_tail_dirty = False
        # Render parameters.
        self._sm_width = 0
        self._sm_theme: MarkdownTheme | None = None
        self._sm_theme_key: Any = None
        # Pump.
        self._sm_wake = asyncio.Event()
        if markdown:
            self._sm_wake.set()
        self._sm_pump_task: asyncio.Task[None] | None = None
        self._sm_closed = False  # unmounted: the pump ends at its next wake
        self._sm_waiters: list[asyncio.Future[None]] = []
        self._sm_finish_requested = False
        self._sm_finished = False
        #: How many times the pump parsed and re-rendered (≤ one per frame).
        self.flush_count = 0
        #: How far code lines wider than the reply are scrolled sideways (shift+wheel, or a horizontal
        #: wheel, over the reply); one offset for all of the reply's wide lines, each clamped to its end.
        self.code_scroll_x = 0

    # ------------------------------------------------------------------ API

    @property
    def text(self) -> str:
        """Everything appended so far."""
        if self._sm_joined is None:
            self._sm_joined = "".join(self._sm_parts)
            self._sm_parts = [self._sm_joined]
        return self._sm_joined

    @property
    def code_blocks(self) -> list[str]:
        """Fenced code blocks in the text (for "copy code block")."""
        return extract_code_blocks(self.text)

    @property
    def is_finished(self) -> bool:
        return self._sm_finished

    @property
    def line_count(self) -> int:
        """Rendered height in lines (at the last rendered width)."""
        return len(self._sm_lines) + self._sm_tail_height()

    def rendered_lines(self) -> list[str]:
        """Plain text of every rendered line (for tests and tooling)."""
        width = self._sm_width or max(1, self.size.width - 4)
        self._sm_ensure(width)
        return [self._sm_line(y).text for y in range(self.line_count)]

    def append(self, fragment: str) -> None:
        """Append a fragment (non-blocking; rendering is coalesced per frame)."""
        if not fragment:
            return
        self._sm_parts.append(fragment)
        self._sm_joined = None
        self._sm_pending.append(fragment)
        self._sm_finished = False
        self._sm_wake.set()

    async def finish(self) -> None:
        """Flush everything and settle the final render (on screen on return)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._sm_waiters.append(waiter)
        self._sm_finish_requested = True
        self._sm_wake.set()
        await waiter

    def reset(self, markdown: str = "") -> None:
        """Restart the reply from scratch (e.g. a retried attempt)."""
        self._sm_parts = [markdown] if markdown else []
        self._sm_joined = markdown
        self._sm_pending = [markdown] if markdown else []
        self._sm_tail_source = ""
        self._sm_blocks = []
        self._sm_block_tokens = {}
        self._sm_rendered_blocks = 0
        self._sm_lines = []
        self._sm_bottom_margin = 0
        self._sm_tail_tokens = None
        self._sm_tail_lines = []
        self._sm_tail_dirty = False
        self._sm_finished = False
        self._sm_wake.set()
        self.refresh(layout=True)

    # ------------------------------------------------------------ lifecycle

    def on_mount(self) -> None:
        self._sm_pump_task = asyncio.create_task(self._sm_pump())
        self.app.theme_changed_signal.subscribe(self, self._sm_on_theme_changed)

    # Textual dispatches `_on_unmount` of every class in the MRO, so Widget's own still runs; the
    # underscore keeps a subclass's `on_unmount` from replacing this one.
    async def _on_unmount(self, event: events.Unmount) -> None:  # type: ignore[override]
        task, self._sm_pump_task = self._sm_pump_task, None
        if task is not None:
            # Python 3.11's asyncio.wait_for swallows a cancel that lands as its inner refresh completes
            # (a reply removed just after it finished hung its removal, and the app's exit, for good):
            # the flag and the wake end the pump even then.
            self._sm_closed = True
            self._sm_wake.set()
            task.cancel()
            try:
                await task
            except BaseException:
                pass
        self._sm_release()

    def _sm_on_theme_changed(self, _theme: Any) -> None:
        self._sm_theme_key = None
        self.refresh(layout=True)

    def _sm_release(self) -> None:
        waiters, self._sm_waiters = self._sm_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # ----------------------------------------------------------------- pump

    async def _sm_pump(self) -> None:
        wake = self._sm_wake
        while True:
            await wake.wait()
            wake.clear()
            if self._sm_closed:
                return
            if self._sm_pending:
                chunk = "".join(self._sm_pending)
                self._sm_pending.clear()
                try:
                    self._sm_absorb(chunk)
                except Exception:  # pragma: no cover - never kill the reply
                    self.log.error("StreamingMarkdown parse error", exc_info=True)
                self.flush_count += 1
                self.refresh(layout=True)
                await self._sm_wait_refresh()
            if self._sm_pending:
                wake.set()
                continue
            if self._sm_finish_requested:
                self._sm_finish_requested = False
                self._sm_finished = True
                self.refresh(layout=True)
                await self._sm_wait_refresh()
                self._sm_release()

    async def _sm_wait_refresh(self) -> None:
        try:
            await asyncio.wait_for(self.wait_for_refresh(), REFRESH_TIMEOUT)
        except asyncio.TimeoutError:
            pass

    def _sm_absorb(self, chunk: str) -> None:
        """Parse from the start of the live block; settle completed blocks."""
        source = self._sm_tail_source + chunk
        blocks = split_blocks(parse(source))
        if len(blocks) > 1:
            last_start = blocks[-1][0]
            lines = source.splitlines(keepends=True)
            # Keep settled blocks as source text only (few objects for the GC);
            # tokens are kept until the block is first rendered.
            for index, (start, _end, tokens) in enumerate(blocks[:-1]):
                block_source = "".join(lines[start : blocks[index + 1][0]])
                self._sm_blocks.append(block_source)
                self._sm_block_tokens[len(self._sm_blocks) - 1] = tokens
            if last_start:
                source = "".join(lines[last_start:])
                # Token line maps of the live block now start at 0.
                tail_tokens = blocks[-1][2]
                for token in tail_tokens:
                    if token.map is not None:
                        token.map = [token.map[0] - last_start, token.map[1] - last_start]
        self._sm_tail_source = source
        self._sm_tail_tokens = blocks[-1][2] if blocks else None
        self._sm_tail_dirty = True

    # -------------------------------------------------------------- render

    def _sm_current_theme(self) -> MarkdownTheme:
        app = self.app
        background = self.background_colors[1]
        key = (app.theme, background, app.current_theme.dark, app.native_ansi_color)
        if self._sm_theme is None or key != self._sm_theme_key:
            self._sm_theme = MarkdownTheme(
                app.get_css_variables(),
                background,
                dark=app.current_theme.dark,
                ansi=app.native_ansi_color,
            )
            self._sm_theme_key = key
            # Everything must be re-rendered in the new colours.
            self._sm_rendered_blocks = 0
            self._sm_lines = []
            self._sm_tail_dirty = True
        return self._sm_theme

    def _sm_ensure(self, width: int) -> None:
        """Render whatever isn't rendered yet at ``width``."""
        if width <= 0:
            return
        if width != self._sm_width:
            self._sm_width = width
            self._sm_rendered_blocks = 0
            self._sm_lines = []
            self._sm_tail_dirty = True
        theme = self._sm_current_theme()
        blocks = self._sm_blocks
        if self._sm_rendered_blocks < len(blocks):
            lines = self._sm_lines
            base = theme.base.rich_style
            blank = Strip.blank(width, base)
            for index in range(self._sm_rendered_blocks, len(blocks)):
                tokens = self._sm_block_tokens.pop(index, None)
                if tokens is None:
                    tokens = parse(blocks[index])
                render = render_block(tokens, width, theme)
                gap = render.margin_top if not lines else max(self._sm_bottom_margin, render.margin_top)
                lines.extend([blank] * gap)
                lines.extend(render.lines)
                self._sm_bottom_margin = render.margin_bottom
            self._sm_rendered_blocks = len(blocks)
        if self._sm_tail_dirty:
            self._sm_tail_dirty = False
            tail_lines: list[Strip] = []
            if self._sm_tail_tokens:
                render = render_block(self._sm_tail_tokens, width, theme)
                blank = Strip.blank(width, theme.base.rich_style)
                gap = render.margin_top if not self._sm_lines else max(self._sm_bottom_margin, render.margin_top)
                tail_lines = [blank] * gap + render.lines + [blank] * render.margin_bottom
            elif self._sm_lines and self._sm_bottom_margin:
                tail_lines = [Strip.blank(width, theme.base.rich_style)] * self._sm_bottom_margin
            self._sm_tail_lines = tail_lines

    def _sm_tail_height(self) -> int:
        return len(self._sm_tail_lines)

    def _sm_line(self, y: int) -> Strip:
        settled = self._sm_lines
        if y < len(settled):
            line = settled[y]
        else:
            y -= len(settled)
            tail = self._sm_tail_lines
            if not 0 <= y < len(tail):
                return Strip.blank(self._sm_width)
            line = tail[y]
        if line.cell_length > self._sm_width and self._sm_theme is not None:  # a code line kept whole
            return scroll_wide(line, self._sm_width, self.code_scroll_x, self._sm_theme)
        return line

    # ------------------------------------------------------ sideways scroll

    @property
    def code_overflow(self) -> int:
        """How many columns the widest code line has beyond the reply (0: nothing to scroll)."""
        width = self._sm_width
        return max((line.cell_length - width for line in (*self._sm_lines, *self._sm_tail_lines)
                    if line.cell_length > width), default=0)

    def scroll_code(self, columns: int) -> bool:
        """Scroll the wide code lines sideways; False when there is nothing (more) to scroll."""
        new = max(0, min(self.code_scroll_x + columns, self.code_overflow))
        if new == self.code_scroll_x:
            return False
        self.code_scroll_x = new
        self.refresh()
        return True

    def _sideways(self, event: events.MouseEvent, columns: int) -> None:
        if self.scroll_code(columns):
            event.stop()
            event.prevent_default()

    def on_mouse_scroll_right(self, event: events.MouseScrollRight) -> None:
        self._sideways(event, 4)

    def on_mouse_scroll_left(self, event: events.MouseScrollLeft) -> None:
        self._sideways(event, -4)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if event.shift:
            self._sideways(event, 4)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if event.shift:
            self._sideways(event, -4)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._sm_ensure(width)
        return len(self._sm_lines) + len(self._sm_tail_lines)

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if width != self._sm_width or self._sm_tail_dirty:
            self._sm_ensure(width)
        return self._sm_line(y)

    async def action_link(self, href: str) -> None:
        self.app.open_url(href)
