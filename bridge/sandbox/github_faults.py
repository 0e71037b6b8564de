"""Fault injection for the local GitHub simulator, switchable per test.

A fault is a JSON spec posted to ``POST /_sim/faults``::

    {"method": "POST", "path": "/issues$", "kind": "lost_response", "times": 1, "skip": 0}

``path`` is a regular expression searched in the request path, ``method`` is optional
(any method when absent), ``times`` is how many matching requests it hits (0 = every one
until ``DELETE /_sim/faults``), ``skip`` lets that many matching requests pass first.
Kinds and their extra fields:

- ``status``: answer ``status`` (default 500) with ``body`` (default a basic-error JSON).
- ``lost_response``: perform the request, then close the connection without answering.
- ``reset``: reset the connection without answering; nothing is performed.
- ``secondary_limit``: 403 secondary-rate-limit message with ``retry-after: retry_after`` (default 60).
- ``rate_429``: 429, with ``retry-after`` only if ``retry_after`` is given.
- ``primary_limit``: 403 primary-limit message, ``x-ratelimit-remaining: 0`` and reset in
  ``reset_in`` seconds (default 60).
- ``slow``: wait ``delay`` seconds (default 1.0), then answer normally.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = ("status", "lost_response", "reset", "secondary_limit", "rate_429", "primary_limit", "slow")


@dataclass
class Fault:
    id: int
    kind: str
    path: str
    method: str | None = None
    times: int = 1
    skip: int = 0
    status: int = 500
    body: Any = None
    retry_after: int | None = None
    reset_in: int = 60
    delay: float = 1.0
    seen: int = 0
    fired: int = 0
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.path)

    @property
    def exhausted(self) -> bool:
        return self.times > 0 and self.fired >= self.times

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "times": self.times,
            "skip": self.skip,
            "status": self.status,
            "retry_after": self.retry_after,
            "reset_in": self.reset_in,
            "delay": self.delay,
            "seen": self.seen,
            "fired": self.fired,
        }


class FaultSet:
    """Registered faults, matched in registration order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next = 1

    def add(self, spec: dict[str, Any]) -> Fault:
        """Validate a spec (``ValueError`` with a readable message) and register it."""
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        method = spec.get("method")
        retry_after = spec.get("retry_after", 60 if kind == "secondary_limit" else None)
        try:
            with self._lock:
                fault = Fault(
                    id=self._next,
                    kind=str(kind),
                    path=str(spec.get("path") or ".*"),
                    method=str(method).upper() if method else None,
                    times=int(spec.get("times", 1)),
                    skip=int(spec.get("skip", 0)),
                    status=int(spec.get("status", 500)),
                    body=spec.get("body"),
                    retry_after=None if retry_after is None else int(retry_after),
                    reset_in=int(spec.get("reset_in", 60)),
                    delay=float(spec.get("delay", 1.0)),
                )
                self._next += 1
                self._faults.append(fault)
        except re.error as exc:
            raise ValueError(f"path is not a valid regular expression: {exc}") from exc
        return fault

    def match(self, method: str, path: str) -> Fault | None:
        """The first live fault matching this request, counted as fired."""
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or (fault.method and fault.method != method.upper()):
                    continue
                if not fault.pattern.search(path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                fault.fired += 1
                return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]
