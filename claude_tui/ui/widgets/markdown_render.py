"""A widget-free Markdown renderer producing Textual ``Strip`` lines.

Textual's ``Markdown`` widget builds a small tree of widgets per block (a list
is a container of items, each a ``Horizontal`` of a bullet and a ``Vertical``
of paragraphs, a table is a grid of cell widgets, ...).  Every widget costs a
mount, a CSS match, a compose, a place in every layout pass and a first render
– about a millisecond each – which caps a streamed reply at roughly a thousand
tokens a second and makes each frame cost more as the document grows.

This module renders the same markdown-it token stream straight to strips,
styled after Textual's Markdown CSS (same theme variables, margins, bullets,
fence highlighting via ``MarkdownFence.highlight``), so a reply is a single
leaf widget whose height is just its number of lines.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from typing import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.segment import Segment
from textual.color import Color
from textual.content import Content, Span
from textual.strip import Strip
from textual.style import Style
from textual.widgets._markdown import MarkdownFence

__all__ = [
    "BlockRender",
    "MarkdownTheme",
    "parse",
    "render_block",
    "scroll_wide",
    "split_blocks",
    "stack_blocks",
]

BULLETS = ["• ", "▪ ", "‣ ", "⭑ ", "◦ "]
_WHITESPACE = re.compile(r"\s+")


def make_parser() -> MarkdownIt:
    return MarkdownIt("gfm-like")


_PARSER = make_parser()


def parse(source: str) -> list[Token]:
    return _PARSER.parse(source)


def split_blocks(tokens: list[Token]) -> list[tuple[int, int, list[Token]]]:
    """Split a flat token stream into top-level blocks.

    Returns:
        ``(start_line, end_line, tokens)`` per top-level block.
    """
    blocks: list[tuple[int, int, list[Token]]] = []
    depth = 0
    current: list[Token] = []
    start = end = 0
    for token in tokens:
        if depth == 0:
            current = []
            if token.map is not None:
                start, end = token.map
        current.append(token)
        depth += token.nesting
        if depth == 0:
            blocks.append((start, end, current))
    return blocks


@dataclass
class BlockRender:
    lines: list[Strip]
    margin_top: int
    margin_bottom: int


class MarkdownTheme:
    """Concrete styles resolved from the app's CSS variables."""

    def __init__(self, variables: dict[str, str], background: Color, dark: bool, ansi: bool = False) -> None:
        self.dark = dark
        self.ansi = ansi
        self.background = background

        def color(name: str, default: str = "transparent") -> Color:
            value = variables.get(name, default)
            try:
                return Color.parse(value)
            except Exception:
                try:
                    return Color.parse(default)
                except Exception:
                    return Color(0, 0, 0, 0)

        foreground = color("foreground", "#E0E0E0")
        self.foreground = foreground
        self.base = Style(background=background, foreground=foreground)
        self.text_primary = color("text-primary", "#57A5E2")
        self.primary = color("primary", "#0178D4")
        self.secondary = color("secondary", "#004578")
        self.boost = color("boost", "#FFFFFF0A")
        bullet = self.text_primary if dark else color("text-secondary", "#004578")
        self.bullet = Style(foreground=bullet)
        self.headings: dict[int, Style] = {}
        for level in range(1, 7):
            style = Style(
                foreground=color(f"markdown-h{level}-color", variables.get("foreground", "#E0E0E0")),
                background=color(f"markdown-h{level}-background", "transparent"),
            )
            text_style = variables.get(f"markdown-h{level}-text-style", "bold")
            style = style + Style(
                bold="bold" in text_style or None,
                italic="italic" in text_style or None,
                underline="underline" in text_style or None,
            )
            self.headings[level] = style
        if dark:
            self.code_inline = Style(
                background=color("warning", "#FEA62B").multiply_alpha(0.10),
                foreground=color("text-warning", "#FFC473").multiply_alpha(0.95),
            )
        else:
            self.code_inline = Style(
                background=color("error", "#ba3c5b").multiply_alpha(0.05),
                foreground=color("text-error", "#ba3c5b").multiply_alpha(0.95),
            )
        self.fence_background = background.blend(Color(0, 0, 0) if dark else Color(255, 255, 255), 0.10 if dark else 0.30)
        self.fence_foreground = Color(210, 210, 210) if dark else foreground
        self.quote_background = background + self.boost
        self.quote_border = (self.text_primary.multiply_alpha(0.5) if dark else color("text-secondary", "#004578"))
        self.table_header = Style(foreground=self.primary, bold=True)
        self.keyline = background + foreground.multiply_alpha(0.2)
        self.hr = self.secondary


def _inline_content(token: Token | None) -> Content:
    """Inline token → Content (after Textual's ``MarkdownBlock._token_to_content``)."""
    if token is None or token.children is None:
        return Content("")
    parts: list[str] = []
    spans: list[Span] = []
    stack: list[tuple[object, int]] = []
    position = 0

    def add(text: str) -> None:
        nonlocal position
        parts.append(text)
        position += len(text)

    def close() -> None:
        if stack:
            style, start = stack.pop()
            spans.append(Span(start, position, style))  # type: ignore[arg-type]

    for child in token.children:
        kind = child.type
        if kind == "text":
            add(_WHITESPACE.sub(" ", child.content))
        elif kind == "hardbreak":
            add("\n")
        elif kind == "softbreak":
            add(" ")
        elif kind == "code_inline":
            stack.append(("code_inline", position))
            add(child.content)
            close()
        elif kind == "em_open":
            stack.append(("em", position))
        elif kind == "strong_open":
            stack.append(("strong", position))
        elif kind == "s_open":
            stack.append(("s", position))
        elif kind == "link_open":
            href = child.attrs.get("href", "")
            stack.append((("link", str(href)), position))
        elif kind == "image":
            href = child.attrs.get("src", "")
            alt = child.attrs.get("alt", "")
            stack.append((("link", str(href)), position))
            add("🖼  ")
            if alt:
                add(f"({alt})")
            for grandchild in child.children or ():
                add(grandchild.content)
            close()
        elif kind.endswith("_close"):
            close()
        elif kind == "html_inline":
            add(child.content)
    return Content("".join(parts), spans=spans)


def _resolve_spans(content: Content, theme: MarkdownTheme) -> Content:
    spans: list[Span] = []
    for start, end, style in content.spans:
        if style == "code_inline":
            resolved: object = theme.code_inline
        elif style == "em":
            resolved = Style(italic=True)
        elif style == "strong":
            resolved = Style(bold=True)
        elif style == "s":
            resolved = Style(strike=True)
        elif isinstance(style, tuple):
            href = style[1]
            resolved = Style(underline=True) + Style.from_meta({"@click": f"link({href!r})"})
        else:
            resolved = style
        spans.append(Span(start, end, resolved))  # type: ignore[arg-type]
    return Content(content.plain, spans=spans)


def _pad(strip: Strip, width: int, style: Style) -> Strip:
    return strip.adjust_cell_length(width, style.rich_style)


def _text_lines(content: Content, width: int, style: Style, align: str = "left") -> list[Strip]:
    if width <= 0:
        return []
    rich = style.rich_style
    lines = content.wrap(width)
    if not lines:
        lines = [Content("")]
    strips = []
    for line in lines:
        strip = Strip(line.render_segments(style))
        if align == "center" and strip.cell_length < width:
            left = (width - strip.cell_length) // 2
            strip = Strip.join([Strip.blank(left, rich), strip])
        strips.append(strip.adjust_cell_length(width, rich))
    return strips


def _blank(width: int, style: Style) -> Strip:
    return Strip.blank(width, style.rich_style)


def stack_blocks(blocks: Sequence[BlockRender], width: int, style: Style) -> BlockRender:
    """Stack blocks vertically, collapsing adjacent margins like Textual does."""
    lines: list[Strip] = []
    previous_bottom: int | None = None
    first_top = 0
    for index, block in enumerate(blocks):
        if index == 0:
            first_top = block.margin_top
        else:
            gap = max(previous_bottom or 0, block.margin_top)
            if gap:
                blank = _blank(width, style)
                lines.extend([blank] * gap)
        lines.extend(block.lines)
        previous_bottom = block.margin_bottom
    return BlockRender(lines, first_top, previous_bottom or 0)


def flatten(render: BlockRender, width: int, style: Style) -> list[Strip]:
    blank = _blank(width, style)
    return [blank] * render.margin_top + render.lines + [blank] * render.margin_bottom


class _Renderer:
    def __init__(self, theme: MarkdownTheme) -> None:
        self.theme = theme

    # The token list of one block is rendered recursively.
    def render(self, tokens: list[Token], width: int, style: Style, top_level: bool, bullet_depth: int = 0) -> BlockRender:
        first = tokens[0]
        kind = first.type
        theme = self.theme
        if kind == "heading_open":
            level = int(first.tag[1:])
            inline = tokens[1] if len(tokens) > 1 else None
            content = _resolve_spans(_inline_content(inline), theme)
            heading_style = style + theme.headings[level]
            lines = _text_lines(content, width, heading_style, "center" if level == 1 else "left")
            if level == 3:
                # width: auto – the background only covers the text.
                lines = [_pad(Strip(line._segments).simplify(), width, style) for line in lines]
            margin_top = 2 if level <= 2 else 1
            return BlockRender(lines, margin_top, 1)
        if kind == "paragraph_open":
            inline = tokens[1] if len(tokens) > 1 else None
            content = _resolve_spans(_inline_content(inline), theme)
            lines = _text_lines(content, width, style)
            return BlockRender(lines, 0, 1 if top_level else 0)
        if kind in ("fence", "code_block"):
            return self.fence(first, width, style, wide=top_level)
        if kind == "hr":
            rule = Strip([Segment("─" * width, (style + Style(foreground=theme.hr)).rich_style)], width)
            return BlockRender([_blank(width, style), rule], 0, 1)
        if kind == "blockquote_open":
            inner_width = max(1, width - 3)
            inner_style = Style(background=theme.quote_background, foreground=theme.foreground)
            children = self.children(tokens[1:-1], inner_width, inner_style, False, bullet_depth)
            body = stack_blocks(children, inner_width, inner_style)
            inner_lines = flatten(body, inner_width, inner_style)
            border = Segment("▌", Style(foreground=theme.quote_border, background=style.background).rich_style)
            pad = Segment(" ", inner_style.rich_style)
            lines = [Strip([border, pad, *line, pad], width) for line in inner_lines]
            return BlockRender(lines, 1, 1)
        if kind in ("bullet_list_open", "ordered_list_open"):
            return self.list(tokens, width, style, top_level, bullet_depth)
        if kind == "table_open":
            return self.table(tokens, width, style)
        if kind == "html_block":
            content = Content(first.content.rstrip("\n"))
            return BlockRender(_text_lines(content, width, style), 0, 1 if top_level else 0)
        if kind == "inline":
            content = _resolve_spans(_inline_content(first), theme)
            return BlockRender(_text_lines(content, width, style), 0, 0)
        # Unknown container: render its children.
        if first.nesting == 1 and len(tokens) > 2:
            children = self.children(tokens[1:-1], width, style, top_level, bullet_depth)
            return stack_blocks(children, width, style)
        return BlockRender([], 0, 0)

    def children(self, tokens: list[Token], width: int, style: Style, top_level: bool, bullet_depth: int) -> list[BlockRender]:
        out: list[BlockRender] = []
        depth = 0
        current: list[Token] = []
        for token in tokens:
            current.append(token)
            depth += token.nesting
            if depth == 0:
                out.append(self.render(current, width, style, top_level, bullet_depth))
                current = []
        return out

    def fence(self, token: Token, width: int, style: Style, *, wide: bool = False) -> BlockRender:
        """A code block. With ``wide`` (a top-level block), a line longer than the block is kept whole:
        its strip is wider than ``width`` (``FENCE_PAD`` + code + ``FENCE_PAD``), and the widget shows a
        window of it that scrolls sideways (``scroll_wide``); nested in a list or quote it is cut."""
        theme = self.theme
        code = token.content.rstrip()
        lexer = token.info if token.type == "fence" else ""
        highlighted = MarkdownFence.highlight(code, lexer, ansi=theme.ansi, dark=theme.dark)
        fence_style = Style(background=theme.fence_background, foreground=theme.fence_foreground)
        rich = fence_style.rich_style
        inner = max(0, width - 4)
        pad = Segment("  ", rich)
        blank = Strip.blank(width, rich)
        lines = [blank]
        for line in highlighted.split("\n", allow_blank=True):
            strip = Strip(line.render_segments(fence_style))
            if wide and strip.cell_length > inner:
                lines.append(Strip([pad, *strip, pad]))  # wider than the block: shown through scroll_wide
                continue
            strip = strip.crop_extend(0, inner, rich)
            lines.append(Strip([pad, *strip, pad], width))
        lines.append(blank)
        return BlockRender(lines, 1, 1)

    def list(self, tokens: list[Token], width: int, style: Style, top_level: bool, bullet_depth: int) -> BlockRender:
        theme = self.theme
        ordered = tokens[0].type == "ordered_list_open"
        items: list[list[Token]] = []
        depth = 0
        current: list[Token] = []
        for token in tokens[1:-1]:
            current.append(token)
            depth += token.nesting
            if depth == 0:
                items.append(current)
                current = []
        symbols: list[str] = []
        if ordered:
            start = 1
            if items and items[0][0].info:
                try:
                    start = int(items[0][0].info)
                except ValueError:
                    pass
            size = max((len(f"{number}. ") for number in range(start, start + len(items))), default=3)
            symbols = [f"{number}. ".rjust(size + 1) for number in range(start, start + len(items))]
        else:
            symbols = [BULLETS[bullet_depth % len(BULLETS)]] * len(items)
        lines: list[Strip] = []
        bullet_style = (style + theme.bullet).rich_style
        for symbol, item in zip(symbols, items):
            symbol_width = len(symbol)
            inner_width = max(1, width - symbol_width)
            child_depth = bullet_depth + (0 if ordered else 1)
            children = self.children(item[1:-1], inner_width, style, False, child_depth)
            body = flatten(stack_blocks(children, inner_width, style), inner_width, style) or [
                _blank(inner_width, style)
            ]
            blank_symbol = Segment(" " * symbol_width, style.rich_style)
            for index, line in enumerate(body):
                head = Segment(symbol, bullet_style) if index == 0 else blank_symbol
                lines.append(Strip([head, *line], width))
        return BlockRender(lines, 0, 1 if top_level else 0)

    def table(self, tokens: builtins.list[Token], width: int, style: Style) -> BlockRender:
        theme = self.theme
        headers: list[Content] = []
        rows: list[list[Content]] = []
        cell: str | None = None
        for index, token in enumerate(tokens):
            if token.type == "tr_open":
                rows.append([])
            elif token.type in ("th_open", "td_open"):
                cell = token.type
            elif token.type == "inline" and cell is not None:
                content = _resolve_spans(_inline_content(token), theme)
                if cell == "th_open":
                    headers.append(content)
                else:
                    rows[-1].append(content)
                cell = None
        if rows and not rows[0]:
            rows.pop(0)  # the header row
        rows = [row for row in rows if row]
        columns = max([len(headers), *(len(row) for row in rows)], default=0)
        if columns == 0:
            return BlockRender([], 0, 1)
        all_rows = [headers + [Content("")] * (columns - len(headers))] + [
            row + [Content("")] * (columns - len(row)) for row in rows
        ]
        natural = [max(row[c].cell_length for row in all_rows) + 2 for c in range(columns)]
        available = max(columns, width - (columns + 1))
        widths = natural[:]
        total = sum(natural)
        if total < available:
            # Expand columns in proportion to their natural width (as the grid does).
            extra = available - total
            cumulative = 0
            previous = 0
            for index, natural_width in enumerate(natural):
                cumulative += natural_width
                position = cumulative * extra // total
                widths[index] = natural_width + position - previous
                previous = position
        while sum(widths) > available:
            widest = max(range(columns), key=widths.__getitem__)
            if widths[widest] <= 3:
                break
            widths[widest] -= 1
        key = Style(foreground=theme.keyline, background=style.background).rich_style
        base = style.rich_style

        def rule(left: str, middle: str, right: str) -> Strip:
            text = left + middle.join("─" * w for w in widths) + right
            return Strip([Segment(text, key)]).adjust_cell_length(width, base)

        lines = [rule("┌", "┬", "┐")]
        for row_index, row in enumerate(all_rows):
            cell_style = style + theme.table_header if row_index == 0 else style
            cell_lines = [
                _text_lines(row[c], max(1, widths[c] - 2), cell_style) for c in range(columns)
            ]
            height = max(len(c) for c in cell_lines)
            for y in range(height):
                segments = [Segment("│", key)]
                for c in range(columns):
                    text_lines = cell_lines[c]
                    strip = text_lines[y] if y < len(text_lines) else Strip.blank(widths[c] - 2, cell_style.rich_style)
                    segments.append(Segment(" ", base))
                    segments.extend(strip)
                    segments.append(Segment(" ", base))
                    segments.append(Segment("│", key))
                lines.append(Strip(segments).adjust_cell_length(width, base))
            if row_index < len(all_rows) - 1:
                lines.append(rule("├", "┼", "┤"))
        lines.append(rule("└", "┴", "┘"))
        return BlockRender(lines, 0, 1)


FENCE_PAD = 2
MORE_LEFT, MORE_RIGHT = "‹", "›"


def scroll_wide(strip: Strip, width: int, offset: int, theme: MarkdownTheme) -> Strip:
    """The ``width`` columns of a code line wider than its block, scrolled ``offset`` columns to the right.

    The fence's padding stays put; a ``‹`` / ``›`` in it says there is more code to that side.
    """
    inner = max(0, width - 2 * FENCE_PAD)
    code_length = strip.cell_length - 2 * FENCE_PAD
    offset = max(0, min(offset, code_length - inner))
    fence = Style(background=theme.fence_background, foreground=theme.fence_foreground)
    marker = (fence + Style(foreground=theme.text_primary, bold=True)).rich_style
    window = strip.crop(FENCE_PAD + offset, FENCE_PAD + offset + inner)
    left = Segment(MORE_LEFT + " " if offset else "  ", marker)
    right = Segment(" " + MORE_RIGHT if offset + inner < code_length else "  ", marker)
    return Strip([left, *window, right], width)


def render_block(tokens: list[Token], width: int, theme: MarkdownTheme) -> BlockRender:
    """Render one top-level block at ``width`` (content width, no padding)."""
    return _Renderer(theme).render(tokens, max(1, width), theme.base, True)

