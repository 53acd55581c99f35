"""A chat's title: stored whole, cut only where it is drawn.

The title is made from the first line of a chat's first prompt and stored as it is (history, exports,
``history list`` and the F3 list show it all); a tab label, the stats panel and file names clip it
to their own width.
"""

from __future__ import annotations

#: A title, not the prompt: a 2 MB one-line paste must not become a 2 MB title (the prompt itself is
#: stored whole as the first message). Far wider than anything draws it.
TITLE_MAX = 120
#: Characters of a title on a tab label (with the "…"): as before titles were stored whole.
TAB_LABEL_WIDTH = 19


def title_from_prompt(prompt: str) -> str:
    """The first non-blank line, whitespace collapsed; over ``TITLE_MAX`` cut at a word, with "…"."""
    first = next((line for line in prompt.splitlines() if line.strip()), "")
    text = " ".join(first.split())
    if len(text) <= TITLE_MAX:
        return text
    cut = text[: TITLE_MAX - 1]
    if " " in cut[TITLE_MAX // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


def clip(title: str, width: int) -> str:
    """``title`` in at most ``width`` characters, "…" marking a cut."""
    if width <= 0:
        return ""
    return title if len(title) <= width else title[: width - 1].rstrip() + "…"
