"""The last few hundred decisions and per-minute outcome counts, in memory, for the status page.

Why in memory: the page answers "why did ticket 1287 get no issue?" for recent events; the durable record
is the log line each decision already writes. A restart starts both afresh. Both are bounded: the ring
keeps ``size`` decisions, the counts one bucket per minute for a day, so memory does not grow with traffic.
Nothing here holds a body, an email or a secret: only ids, bounded names and the issue URL.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

RING_SIZE = 500
DAY_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One decision as the status page shows it."""

    at: float  # Unix time
    source: str  # "webhook" (FreeScout), "github" (GitHub webhook) or "sweep"
    event: str  # a bounded event name ("sweep" for a sweep item)
    conversation_id: int | None
    outcome: str
    reason: str
    issue_url: str = ""


class DecisionRing:
    """Recent decisions (newest last) and outcome counts per minute over the last day."""

    def __init__(self, size: int = RING_SIZE, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._records: deque[DecisionRecord] = deque(maxlen=size)
        self._minutes: deque[tuple[int, Counter[str]]] = deque(maxlen=DAY_MINUTES)

    @property
    def size(self) -> int:
        return self._records.maxlen or 0

    def record(
        self,
        source: str,
        event: str,
        conversation_id: int | None,
        outcome: str,
        reason: str,
        issue_url: str = "",
    ) -> None:
        now = self._clock()
        self._records.append(DecisionRecord(now, source, event, conversation_id, outcome, reason, issue_url))
        minute = int(now // 60)
        if not self._minutes or self._minutes[-1][0] != minute:
            self._minutes.append((minute, Counter()))
        self._minutes[-1][1][outcome] += 1

    def recent(
        self, conversation_id: int | None = None, outcome: str | None = None, limit: int | None = None
    ) -> list[DecisionRecord]:
        """Newest first, optionally only one conversation's and/or one outcome's."""
        found = [
            r
            for r in reversed(self._records)
            if (conversation_id is None or r.conversation_id == conversation_id)
            and (outcome is None or r.outcome == outcome)
        ]
        return found if limit is None else found[:limit]

    def outcomes(self) -> list[str]:
        """Every outcome seen in the last day (the status page's filter offers these)."""
        return sorted({o for _minute, counts in self._minutes for o in counts})

    def counts(self, seconds: float) -> Counter[str]:
        """Decisions per outcome in the last ``seconds`` (whole minutes: the current one included)."""
        oldest = int((self._clock() - seconds) // 60) + 1
        return sum_counters(counts for minute, counts in self._minutes if minute >= oldest)


@dataclass(frozen=True)
class LastSweep:
    finished_at: float  # Unix time
    result: str  # ok, stopped_early or failed (the bridge_sweeps_total label)
    source: str  # schedule or admin
    dry_run: bool
    held_back: int | None = None  # conversations the cut-off kept out of the pass


class Activity:
    """What the status page reads about recent work: the decision ring and the sweep's times."""

    def __init__(self, clock: Callable[[], float] = time.time, size: int = RING_SIZE) -> None:
        self.clock = clock
        self.decisions = DecisionRing(size, clock)
        self.last_sweep: LastSweep | None = None
        self.next_sweep_at: float | None = None

    def sweep_ended(self, result: str, source: str, dry_run: bool, held_back: int | None = None) -> None:
        self.last_sweep = LastSweep(self.clock(), result, source, dry_run, held_back)

    def sweep_scheduled(self, in_seconds: float) -> None:
        self.next_sweep_at = self.clock() + in_seconds


def sum_counters(counters: Iterable[Counter[str]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for counts in counters:
        total.update(counts)
    return total
