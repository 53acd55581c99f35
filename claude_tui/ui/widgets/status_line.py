"""The status bar's one line: the whole picture beside the stats panel, the essentials without it.

When the terminal is too narrow for the panel (see ``app.NARROW_WIDTH``) the status bar is the only
place the figures show, so it carries what matters most first and drops what does not fit the width,
instead of being cut off mid-word at the right edge.
"""

from __future__ import annotations

from typing import Any

from .. import fmt

SEP = " · "


def wide_line(snap: Any, *, marker: str, model: str, limit: int, in_tabs: int = 0) -> str:
    """Beside the panel (which has the rest). ``queued`` counts the prompts waiting in tabs (``+N``) too."""
    return (
        f"{marker}  ·  {model}  ·  in flight {snap.in_flight}/{limit}  ·  queued {snap.queued + in_tabs}"
        f"  ·  done {snap.done}  failed {snap.failed}  ·  {fmt.money(snap.cost)} est."
    )


def narrow_line(snap: Any, *, marker: str, model: str, limit: int, width: int, in_tabs: int = 0) -> str:
    """Without the panel: the essentials, most important first, as many as ``width`` holds.

    Each part has a rank (1 = kept longest); parts are shown in reading order. The backend marker,
    what runs and waits and what failed stay down to 40 columns. Timings (TTFT, tok/s) are on each
    reply's footer and in the panel (F2); here they would only jitter.
    """
    parts: list[tuple[int, str]] = [
        (1, marker.replace("SIMULATOR", "SIM")),
        (6, model.removeprefix("claude-")),
        (1, f"{snap.in_flight}/{limit} running"),
        (2, f"{snap.queued + in_tabs} queued"),
        (2, f"✓{snap.done} ✗{snap.failed}"),
    ]
    if snap.rate_limited:
        parts.append((3, f"429s {snap.rate_limited}"))
    parts.append((3, f"{fmt.money(snap.cost)} est."))
    for cutoff in range(6, 0, -1):  # drop the highest ranks until the line fits
        kept = [text for rank, text in parts if rank <= cutoff]
        line = SEP.join(kept)
        if len(line) <= width:
            return line
    return line[:width]
