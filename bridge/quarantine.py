"""Writes whose outcome is unknown are not repeated until their outcome can be seen.

A create that timed out (or lost its response, or got a 5xx) may still land seconds later. Looking for it
at once and creating again when it is not there yet is how a twin is born. So for a while after such a
failure the bridge only *looks*; FreeScout's redelivery (or the sweep) finishes the link once the first
write has landed or surely died. In memory: after a restart the window is long over anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

#: GitHub gives up on a request within about 10 s; a generous margin past our own 5 s client timeout.
UNSURE_SECONDS = 30.0


class Quarantine:
    def __init__(self, seconds: float = UNSURE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._until: dict[Hashable, float] = {}

    def hold(self, key: Hashable) -> None:
        self._until[key] = self._clock() + self._seconds

    def remaining(self, key: Hashable) -> float:
        """Seconds left before ``key`` may be written again (0 when free)."""
        until = self._until.get(key)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._until[key]
            return 0.0
        return left

    def release(self, key: Hashable) -> None:
        self._until.pop(key, None)
