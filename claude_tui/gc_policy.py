"""Keep the garbage collector's full passes away from start-up, streams and keystrokes.

Start-up: importing the SDK makes ~180,000 long-lived objects (its models, modules, the client),
and every full collection meanwhile walks them all. ``run`` did three full collections before its
first request (150–190 ms of collecting; the bare SDK does two). None of it is garbage worth finding,
so the front end pauses the collector (``pause_for_start_up``) until its first requests are
submitted; ``start_up_done`` then freezes what lives into the permanent generation (``gc.freeze()``,
O(1)) and turns the collector back on, so later full passes walk only what the run makes (one
over the whole heap at 100 in flight took 66–107 ms, and every stream stalled meanwhile).

The app: with a long conversation on screen, a full (generation 2) collection walks every rendered
line and takes 100–200 ms: a key typed then echoes late. While requests run ``CollectorPolicy``
freezes everything alive, so full passes only walk what is new; once the app has been idle a
while, one real collection reclaims any cycles that were frozen meanwhile.
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from typing import Callable, Iterator


_paused = False


def pause_for_start_up() -> None:
    """Collect nothing until ``start_up_done()`` (which the caller must reach on every path:
    ``start_up_paused`` makes sure)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def start_up_done() -> None:
    """What start-up made lives as long as the process: freeze it, and collect again from here on.
    Idempotent; does nothing unless ``pause_for_start_up()`` paused the collector."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


@contextmanager
def start_up_paused() -> Iterator[None]:
    """The collector paused for the block: ``start_up_done()`` inside it ends the pause when the
    first requests are under way, and the block's end does on every other path out (an error, a
    dry run, batch mode)."""
    pause_for_start_up()
    try:
        yield
    finally:
        start_up_done()


class CollectorPolicy:
    def __init__(self, idle_after: float = 2.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_after = idle_after
        self._clock = clock
        self._dirty = False  # something was frozen since the last full collection
        self._idle_since: float | None = None
        self.full_collections = 0

    def freeze(self) -> None:
        gc.freeze()
        self._dirty = True

    def tick(self, busy: bool) -> None:
        """Call a few times a second with whether requests are running or queued."""
        if busy:
            self.freeze()
            self._idle_since = None
            return
        now = self._clock()
        if self._idle_since is None:
            self._idle_since = now
        elif self._dirty and now - self._idle_since >= self.idle_after:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._dirty = False
            self.full_collections += 1
