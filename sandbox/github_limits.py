"""Primary and secondary rate limits of the local GitHub simulator (docs/upstream/github.md section 3).

- Primary: an hourly budget per identity, reported in ``x-ratelimit-*`` headers on every
  response and decremented per request.
- Secondary content limit: issue and comment creations in sliding windows of a minute
  and an hour; beyond them a 403 with ``retry-after``.
- Violations: a write sent while a ``retry-after`` (or primary reset) window handed to
  the client is still running is counted; GitHub bans integrations that do this.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_MINUTE = 60.0
WINDOW_HOUR = 3600.0
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. "
    "Please retry your request again later."
)
PRIMARY_MESSAGE = "API rate limit exceeded for user ID {uid}. If you reach out to GitHub Support for help, please include the request ID."


@dataclass
class Bucket:
    limit: int
    reset_at: float
    used: int = 0


@dataclass
class Stats:
    requests: int = 0
    writes: int = 0
    content_created: int = 0
    violations: int = 0
    secondary_limited: int = 0
    primary_limited: int = 0
    rate_limited_429: int = 0
    faults_fired: int = 0
    violation_log: list[dict[str, object]] = field(default_factory=list)


class RateLimits:
    """All limit bookkeeping; ``monotonic`` and ``wall`` clocks are injectable."""

    def __init__(
        self,
        *,
        hourly_limit: int,
        content_per_minute: int,
        content_per_hour: int,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.hourly_limit = hourly_limit
        self.per_minute = content_per_minute
        self.per_hour = content_per_hour
        self.monotonic = monotonic
        self.wall = wall
        self.stats = Stats()
        self._lock = threading.Lock()
        self._buckets: dict[str, Bucket] = {}
        self._content: deque[float] = deque()
        self.blocked_until = 0.0

    def reset(self) -> None:
        with self._lock:
            self.stats = Stats()
            self._buckets.clear()
            self._content.clear()
            self.blocked_until = 0.0

    # -- primary ----------------------------------------------------------------------
    def consume(self, identity: str, *, count: bool = True) -> tuple[dict[str, str], bool]:
        """Count one request (unless ``count`` is False); returns (headers, exhausted?)."""
        with self._lock:
            now = self.wall()
            bucket = self._buckets.get(identity)
            if bucket is None or now >= bucket.reset_at:
                bucket = self._buckets[identity] = Bucket(self.hourly_limit, now + WINDOW_HOUR)
            exhausted = bucket.used >= bucket.limit
            if count and not exhausted:
                bucket.used += 1
            return self._headers(bucket), exhausted

    def primary_headers(self, identity: str, reset_in: int) -> dict[str, str]:
        """Headers of a primary-limit answer: remaining 0, reset ``reset_in`` s from now."""
        with self._lock:
            bucket = self._buckets.setdefault(identity, Bucket(self.hourly_limit, self.wall() + WINDOW_HOUR))
            headers = self._headers(bucket)
        headers.update({"x-ratelimit-remaining": "0", "x-ratelimit-used": str(bucket.limit)})
        headers["x-ratelimit-reset"] = str(int(self.wall()) + reset_in)
        return headers

    @staticmethod
    def _headers(bucket: Bucket) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(bucket.limit),
            "x-ratelimit-remaining": str(max(bucket.limit - bucket.used, 0)),
            "x-ratelimit-used": str(bucket.used),
            "x-ratelimit-reset": str(int(bucket.reset_at)),
            "x-ratelimit-resource": "core",
        }

    def overview(self, identity: str) -> dict[str, int]:
        with self._lock:
            bucket = self._buckets.get(identity) or Bucket(self.hourly_limit, self.wall() + WINDOW_HOUR)
            remaining = max(bucket.limit - bucket.used, 0)
            return {
                "limit": bucket.limit,
                "remaining": remaining,
                "reset": int(bucket.reset_at),
                "used": bucket.used,
            }

    # -- secondary / violations -------------------------------------------------------
    def note_write(self, method: str, path: str) -> int | None:
        """Count a write; if it arrives inside a given wait window, record a violation
        and return the seconds still to wait."""
        with self._lock:
            self.stats.writes += 1
            left = self.blocked_until - self.monotonic()
            if left <= 0:
                return None
            self.stats.violations += 1
            self.stats.violation_log.append({"method": method, "path": path, "secondsEarly": round(left, 3)})
            return max(1, math.ceil(left))

    def block(self, seconds: float) -> None:
        """Remember a wait window handed to the client (``retry-after`` / reset)."""
        with self._lock:
            self.blocked_until = max(self.blocked_until, self.monotonic() + seconds)

    def content_retry_after(self) -> int | None:
        """None if one more issue/comment may be created now, else seconds to wait."""
        with self._lock:
            now = self.monotonic()
            while self._content and now - self._content[0] >= WINDOW_HOUR:
                self._content.popleft()
            in_minute = [t for t in self._content if now - t < WINDOW_MINUTE]
            waits = []
            if len(in_minute) >= self.per_minute:
                waits.append(in_minute[len(in_minute) - self.per_minute] + WINDOW_MINUTE - now)
            if len(self._content) >= self.per_hour:
                waits.append(self._content[len(self._content) - self.per_hour] + WINDOW_HOUR - now)
            return max(1, math.ceil(max(waits))) if waits else None

    def record_content(self) -> None:
        with self._lock:
            self._content.append(self.monotonic())
            self.stats.content_created += 1

    def stats_json(self) -> dict[str, object]:
        with self._lock:
            s = self.stats
            return {
                "requests": s.requests,
                "writes": s.writes,
                "content_created": s.content_created,
                "violations": s.violations,
                "violation_log": list(s.violation_log),
                "secondary_limited": s.secondary_limited,
                "primary_limited": s.primary_limited,
                "rate_limited_429": s.rate_limited_429,
                "faults_fired": s.faults_fired,
                "blocked_for": max(0.0, round(self.blocked_until - self.monotonic(), 3)),
            }
