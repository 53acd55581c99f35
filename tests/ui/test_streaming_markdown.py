"""Behaviour tests for StreamingMarkdown (what a user sees on screen)."""

from __future__ import annotations

import asyncio
import re

from textual import events
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from claude_tui.ui.widgets.streaming_markdown import StreamingMarkdown

from .conftest import screen_text

TOKEN_RE = re.compile(r"\S+\s*|\s+")


class ChatApp(App):
    def __init__(self, widget: StreamingMarkdown, anchor: bool = True) -> None:
        super().__init__()
        self.widget = widget
        self.anchor = anchor

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log") as log:
            if self.anchor:
                log.anchor()
            yield self.widget


def screen_lines(app: App) -> list[str]:
    return screen_text(app)


async def stream(widget: StreamingMarkdown, text: str, *, per_char: bool = False) -> None:
    pieces = list(text) if per_char else TOKEN_RE.findall(text)
    for piece in pieces:
        widget.append(piece)
        await asyncio.sleep(0)


async def test_markdown_appears_rendered_on_screen() -> None:
    widget = StreamingMarkdown()
    app = ChatApp(widget)
    text = "# Hello World\n\nSome **bold** text.\n\n- alpha\n- beta\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    async with app.run_test(size=(120, 40)) as pilot:
        await stream(widget, text)
        await widget.finish()
        await pilot.pause()
        lines = screen_lines(app)
        joined = "\n".join(lines)
        assert "Hello World" in joined
        assert "# Hello" not in joined  # heading rendered, not raw
        assert "Some bold text." in joined  # no ** markers
        assert any(line.strip().startswith("• alpha") for line in lines)
        assert "│ 1" in joined  # a table


async def test_code_fence_visible_after_finish_regression_6518() -> None:
    widget = StreamingMarkdown()
    app = ChatApp(widget)
    text = "Example:\n\n```python\nfrom x import y\n\ndef handler(event):\n    return event\n```\n\nDone.\n"
    async with app.run_test(size=(120, 40)) as pilot:
        await stream(widget, text, per_char=True)
        await widget.finish()
        await pilot.pause()
        # Something that used to trigger a recompose / style refresh.
        app.theme = "textual-light"
        await pilot.pause()
        joined = "\n".join(screen_lines(app))
        assert "def handler(event):" in joined
        assert "return event" in joined
        assert "```" not in joined
        assert widget.code_blocks == ["from x import y\n\ndef handler(event):\n    return event"]


async def test_text_is_concatenation_and_reset_clears() -> None:
    widget = StreamingMarkdown()
    app = ChatApp(widget)
    pieces = ["Hel", "lo ", "**wor", "ld**", "\n\n", "- a", "\n"]
    async with app.run_test(size=(80, 20)) as pilot:
        for piece in pieces:
            widget.append(piece)
        assert widget.text == "".join(pieces)
        await widget.finish()
        widget.reset()
        assert widget.text == ""
        await pilot.pause()
        await widget.finish()
        assert not any(line.strip() for line in screen_lines(app))
        widget.reset("Retry *answer*")
        await widget.finish()
        assert widget.text == "Retry *answer*"
        assert any("Retry answer" in line for line in screen_lines(app))
        assert "Hello" not in "\n".join(screen_lines(app))


async def test_many_tiny_appends_are_coalesced() -> None:
    widget = StreamingMarkdown()
    app = ChatApp(widget)
    text = "\n\n".join(f"Paragraph {i} with some words." for i in range(100)) + "\n"
    async with app.run_test(size=(120, 40)) as pilot:
        chars = list(text)
        for char in chars:
            widget.append(char)  # no awaiting at all: one burst
        await widget.finish()
        await pilot.pause()
        assert widget.flush_count <= 3, widget.flush_count
        # And with the app yielding between tokens: still far fewer renders than tokens.
        widget.reset()
        await stream(widget, text, per_char=True)
        await widget.finish()
        assert widget.flush_count < len(chars) / 10, (widget.flush_count, len(chars))
        assert "Paragraph 99 with some words." in "\n".join(screen_lines(app))


async def test_settled_content_still_shows_when_scrolled_to_top() -> None:
    widget = StreamingMarkdown()
    app = ChatApp(widget)
    text = "".join(f"## Heading {i}\n\nBody of section {i}.\n\n" for i in range(200))
    async with app.run_test(size=(100, 30)) as pilot:
        await stream(widget, text)
        await widget.finish()
        await pilot.pause()
        log = app.query_one("#log", VerticalScroll)
        assert "Body of section 199." in "\n".join(screen_lines(app))  # anchored at bottom
        log.scroll_home(animate=False)
        await pilot.pause()
        top = "\n".join(screen_lines(app))
        assert "Heading 0" in top and "Body of section 0." in top
        rendered = widget.rendered_lines()
        assert sum("Heading" in line for line in rendered) == 200


async def test_code_blocks_extracted() -> None:
    text = "a\n\n```python\nprint(1)\n```\n\ntext\n\n~~~\nplain\n~~~\n\n```sh\nls -l\n"
    widget = StreamingMarkdown(text)
    app = ChatApp(widget)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        assert widget.code_blocks == ["print(1)", "plain", "ls -l"]
        await widget.finish()
        assert "print(1)" in "\n".join(screen_lines(app))


async def test_matches_textual_markdown_layout() -> None:
    """Same text as Textual's own Markdown widget, line for line."""
    from textual.widgets import Markdown

    text = (
        "# Title\n\nIntro *em* and `code`.\n\n## Part\n\n1. one\n2. two\n\n"
        "- a\n  - nested\n- b\n\n> quote\n\n```python\nx = 1\n```\n\n"
        "| h1 | h2 |\n|---|---|\n| c | d |\n\n---\n\nEnd.\n"
    )

    class Plain(App):
        def compose(self) -> ComposeResult:
            with VerticalScroll():
                yield Markdown(text)

    plain = Plain()
    async with plain.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        expected = screen_lines(plain)
    widget = StreamingMarkdown()
    app = ChatApp(widget, anchor=False)
    async with app.run_test(size=(100, 60)) as pilot:
        await stream(widget, text)
        await widget.finish()
        await pilot.pause()
        assert screen_lines(app) == expected


async def test_space_after_inline_code_is_kept() -> None:
    """``use `x` to`` reads "use x to" on screen (a PNG made with rsvg-convert from Textual's SVG showed
    "use xto": rsvg drops a text run's leading space; the screen and the SVG itself are right)."""
    widget = StreamingMarkdown()
    app = ChatApp(widget)
    async with app.run_test(size=(80, 12)) as pilot:
        await stream(widget, "Use `x` to start; the `base` is the first wait, `cap` the last.\n")
        await widget.finish()
        await pilot.pause()
        assert "Use x to start; the base is the first wait, cap the last." in "\n".join(screen_lines(app))


LONG_LINE = "result = compute(" + ", ".join(f"argument_{n}" for n in range(12)) + ")  # the end"


async def test_a_long_code_line_scrolls_sideways_instead_of_being_cut() -> None:
    widget = StreamingMarkdown()
    app = ChatApp(widget)
    async with app.run_test(size=(60, 14)) as pilot:
        await stream(widget, f"Look:\n\n```python\n{LONG_LINE}\nshort = 1\n```\n\nAfter.\n")
        await widget.finish()
        await pilot.pause()
        line = next(text for text in screen_lines(app) if "result = compute(" in text)
        assert line.rstrip().endswith("›") and "# the end" not in line  # more to the right, and it says so
        assert widget.code_overflow > 0
        for _ in range(40):  # a horizontal wheel (or shift+wheel) over the reply
            widget.post_message(events.MouseScrollRight(widget, 5, 3, 0, 0, 0, False, False, False))
        await pilot.pause()
        lines = screen_lines(app)
        end = next(text for text in lines if "# the end" in text)
        assert end.lstrip().startswith("‹") and not end.rstrip().endswith("›")  # at the end: more to the left
        assert any(text.strip() == "After." for text in lines)  # prose is not scrolled
        assert widget.code_blocks == [f"{LONG_LINE}\nshort = 1"]  # copying takes the whole line
