"""StreamingMarkdown: one reply's body, streamed in live as Markdown.

Step-1 implementation: wraps a Textual ``Markdown`` and coalesces appended
fragments so that at most one ``Markdown.append`` runs at a time.
"""

from __future__ import annotations

import asyncio
import re

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Markdown

__all__ = ["StreamingMarkdown", "extract_code_blocks"]



def extract_code_blocks(markdown: str) -> list[str]:
    """Return the contents of the fenced code blocks in ``markdown``."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("gfm-like").parse(markdown)
    return [token.content.rstrip("\n") for token in tokens if token.type == "fence"]


class StreamingMarkdown(Widget):
    """One reply's body: Markdown that grows as token deltas arrive."""

    DEFAULT_CSS = """
    StreamingMarkdown {
        height: auto;
        width: 1fr;
    }
    StreamingMarkdown > Markdown {
        height: auto;
        margin: 0;
    }
    """

    def __init__(
        self,
        markdown: str = "",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._sm_text = markdown
        self._sm_pending: list[str] = []
        self._sm_wake = asyncio.Event()
        self._sm_task: asyncio.Task | None = None
        self._sm_markdown = Markdown(markdown)

    def compose(self) -> ComposeResult:
        yield self._sm_markdown

    @property
    def text(self) -> str:
        """Everything appended so far."""
        return self._sm_text

    @property
    def code_blocks(self) -> list[str]:
        """Fenced code blocks in the text."""
        return extract_code_blocks(self._sm_text)

    def append(self, fragment: str) -> None:
        """Append a fragment (non-blocking; rendering is coalesced)."""
        if not fragment:
            return
        self._sm_text += fragment
        self._sm_pending.append(fragment)
        self._sm_wake.set()
        if self._sm_task is None:
            self._sm_task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self._sm_wake.wait()
            self._sm_wake.clear()
            chunk = "".join(self._sm_pending)
            self._sm_pending.clear()
            if chunk:
                await self._sm_markdown.append(chunk)

    async def _drain(self) -> None:
        if self._sm_task is not None:
            self._sm_task.cancel()
            try:
                await self._sm_task
            except asyncio.CancelledError:
                pass
            self._sm_task = None
        self._sm_wake.clear()

    async def finish(self) -> None:
        """Flush everything and settle the final render."""
        await self._drain()
        self._sm_pending.clear()
        await self._sm_markdown.update(self._sm_text)

    def reset(self, markdown: str = "") -> None:
        """Restart the reply from scratch."""
        if self._sm_task is not None:
            self._sm_task.cancel()
            self._sm_task = None
        self._sm_pending.clear()
        self._sm_text = markdown
        self._sm_markdown.update(markdown)
