"""Fault injection shared by the local simulators: a registry of faults matched per request.

A fault is a JSON spec posted to a simulator's ``POST /_sim/faults``::

    {"method": "POST", "path": "/issues$", "kind": "lost_response", "times": 1, "skip": 0}

``path`` is a regular expression searched in the request path, ``method`` is optional (any method when
absent), ``times`` is how many matching requests it hits (0 = every one until ``DELETE /_sim/faults``),
``skip`` lets that many matching requests pass first. Which ``kind`` values exist, and what they do, is up
to each simulator (``github_faults.py``, ``freescout_faults.py``); this module only stores and matches.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
    """Registered faults of the kinds ``kinds``, matched in registration order."""

    def __init__(self, kinds: tuple[str, ...], retry_after_defaults: Mapping[str, int] | None = None) -> None:
        self.kinds = kinds
        self._retry_after_defaults = dict(retry_after_defaults or {})
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next = 1

    def add(self, spec: dict[str, Any]) -> Fault:
        """Validate a spec (``ValueError`` with a readable message) and register it."""
        kind = spec.get("kind")
        if kind not in self.kinds:
            raise ValueError(f"kind must be one of {', '.join(self.kinds)}")
        method = spec.get("method")
        retry_after = spec.get("retry_after", self._retry_after_defaults.get(str(kind)))
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
