"""When Python's garbage collector may pause the interface: while the annotator reads, not while
they press keys.

A full (generation 2) collection walks every container object the process holds.  In the
annotator's process that is the queue of thousands of letters, the lexicon, the code table and
whatever the open letters hold: 30-60 ms, and when it falls inside a key's handling the key misses
its frame (measured in `bench/tui.py`: a 36 ms collection inside `y` -> next letter).  So:

- once the long-lived data is loaded it is frozen (`gc.freeze`): collections no longer walk it;
- automatic full collections are made rare (a high third threshold), so a burst of keys does not
  trigger one;
- the full collection runs instead once the annotator has paused (no input for `IDLE` seconds)
  after some work, when 30 ms cannot be seen.

Only the annotator's process does this (`ImrGoldApp(settle_heap=True)`); the collector's own
settings are put back when the app ends.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

IDLE = 1.0
"""Seconds without a key or a mouse event before the full collection runs."""
RARE_FULL = 1000
"""Generation-1 collections between automatic full ones (Python's default is 10)."""


class HeapKeeper:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_input = clock()
        self._worked = False
        self._thresholds: tuple[int, int, int] | None = None

    def settle(self) -> None:
        """Long-lived data was just loaded: out of the collector's sight, full collections
        rare from now on."""
        gc.freeze()
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
            first, second, _ = self._thresholds
            gc.set_threshold(first, second, RARE_FULL)

    def touched(self) -> None:
        """The annotator pressed a key (or used the mouse)."""
        self._last_input = self._clock()
        self._worked = True

    def collect_if_idle(self) -> bool:
        """The full collection, if there was work since the last one and the annotator has
        paused; whether it ran."""
        if not self._worked or self._clock() - self._last_input < IDLE:
            return False
        self._worked = False
        gc.collect()
        return True

    def restore(self) -> None:
        """The collector's own settings back (the app ends)."""
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
