"""Keep the garbage collector's full passes away from keystrokes.

With a long conversation on screen, a full (generation 2) collection walks every rendered line and
takes 100–200 ms: a key typed then echoes late. While requests run we move everything alive into
the permanent generation (``gc.freeze()``, O(1)), so full passes only walk what is new; once the
app has been idle a while, one real collection reclaims any cycles that were frozen meanwhile.
"""

from __future__ import annotations

import gc
import time
from typing import Callable


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
