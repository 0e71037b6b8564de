"""GitHub write etiquette for one process (docs/upstream/github.md §3).

At most one write in flight, writes spaced apart, content creation kept inside per-minute and per-hour
budgets, and never a write inside a ``retry-after`` window GitHub gave us. When the wait would pass the
delivery's deadline we refuse with ``BudgetExhausted`` (a 503 with ``Retry-After``) instead of queueing.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bridge.errors import BudgetExhausted


class WriteGate:
    def __init__(
        self,
        spacing: float = 1.0,
        per_minute: int = 60,
        per_hour: int = 400,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._spacing = spacing
        self._limits = ((60.0, per_minute), (3600.0, per_hour))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.RLock()  # re-entrant: a look-up-then-create holds it across both
        self._state = threading.Lock()
        self._last_write = -math.inf
        self._blocked_until = -math.inf
        self._content: deque[float] = deque()

    def back_off(self, seconds: float) -> None:
        """GitHub asked us to wait: no write (and no read) before ``seconds`` from now."""
        with self._state:
            self._blocked_until = max(self._blocked_until, self._clock() + max(0.0, seconds))

    def blocked_for(self) -> float:
        """Seconds left in the current ``retry-after`` window (0 when clear)."""
        with self._state:
            return max(0.0, self._blocked_until - self._clock())

    def budget_left(self) -> dict[str, int]:
        """Content writes still allowed now in each window (``minute``, ``hour``): metrics, status page."""
        with self._state:
            now = self._clock()
            left: dict[str, int] = {}
            for (window, limit), name in zip(self._limits, ("minute", "hour"), strict=True):
                used = sum(1 for t in self._content if t > now - window)
                left[name] = max(0, limit - used)
            return left

    def _budget_wait(self, now: float) -> float:
        wait = 0.0
        for window, limit in self._limits:
            while self._content and self._content[0] <= now - 3600.0:
                self._content.popleft()
            recent = [t for t in self._content if t > now - window]
            if len(recent) >= limit:
                wait = max(wait, recent[len(recent) - limit] + window - now)
        return wait

    @contextmanager
    def slot(self, max_wait: float | None) -> Iterator[None]:
        """Hold the process's single GitHub write slot (a look-up and its create go under one hold)."""
        timeout = -1.0 if max_wait is None else max(0.0, max_wait)
        if not self._lock.acquire(timeout=timeout):
            raise BudgetExhausted("github", "write", "write_slot_busy", retry_after=max(1.0, self._spacing))
        try:
            yield
        finally:
            self._lock.release()

    @contextmanager
    def turn(self, *, content: bool, max_wait: float | None) -> Iterator[None]:
        """Wait for spacing and any ``retry-after`` window, check the budget, then allow one write.

        Call it while holding ``slot``. Raises ``BudgetExhausted`` rather than wait past ``max_wait``.
        """
        with self._state:
            now = self._clock()
            budget = self._budget_wait(now) if content else 0.0
            blocked = max(0.0, self._blocked_until - now)
            spacing = max(0.0, self._last_write + self._spacing - now)
        if budget > 0:
            raise BudgetExhausted("github", "write", "content_budget", retry_after=math.ceil(budget))
        wait = max(blocked, spacing)
        if max_wait is not None and wait > max_wait:
            reason = "retry_after_window" if blocked >= spacing else "write_spacing"
            raise BudgetExhausted("github", "write", reason, retry_after=math.ceil(wait))
        if wait > 0:
            self._sleep(wait)
        try:
            yield
        finally:
            with self._state:
                self._last_write = self._clock()
                if content:
                    self._content.append(self._last_write)

    @contextmanager
    def write(self, *, content: bool, max_wait: float | None) -> Iterator[None]:
        """One write: hold the slot and take a turn."""
        with self.slot(max_wait), self.turn(content=content, max_wait=max_wait):
            yield
