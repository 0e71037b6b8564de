"""Prometheus metrics, one registry per app instance (tests build many apps; nothing global).

Every label is bounded: event names outside the known set become ``other``, and no label ever carries
a conversation id, an issue number or a URL.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from bridge.criteria import CONVERSATION_EVENTS

_KNOWN_EVENTS = CONVERSATION_EVENTS | {
    "convo.deleted",
    "convo.deleted_forever",
    "customer.created",
    "customer.updated",
}


def bounded_event(event: str) -> str:
    return event if event in _KNOWN_EVENTS else "other"


class Metrics:
    def __init__(self) -> None:
        self.last_success: dict[str, float] = {}
        self._delivery_children: dict[tuple[str, str, str, str], Any] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        self.deliveries = Counter(
            "bridge_deliveries",
            "Webhook deliveries by event, route, outcome and reason",
            ["event", "route", "outcome", "reason"],
            registry=self.registry,
        )
        self.upstream_calls = Counter(
            "bridge_upstream_calls",
            "Calls to FreeScout and GitHub by API, operation and status",
            ["api", "operation", "status"],
            registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "bridge_upstream_latency_seconds",
            "Upstream call latency by API and operation",
            ["api", "operation"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.links = Counter(
            "bridge_issues_linked",
            "Conversations linked to a GitHub issue",
            ["created"],
            registry=self.registry,
        )
        self.closing_comments = Counter(
            "bridge_closing_comments", "Closing comments posted", registry=self.registry
        )
        self.sweeps = Counter(
            "bridge_sweeps", "Reconciler sweeps by result", ["result"], registry=self.registry
        )

    def delivered(self, event: str, route: str, outcome: str, reason: str) -> None:
        """Count a delivery; label children are cached (the label sets are bounded)."""
        key = (event, route, outcome, reason)
        child = self._delivery_children.get(key)
        if child is None:
            child = self.deliveries.labels(*key)
            if len(self._delivery_children) < 4096:
                self._delivery_children[key] = child
        child.inc()

    def upstream(self, api: str, operation: str, status: str, seconds: float) -> None:
        if status == "ok" or status.startswith(("2", "3")):
            self.last_success[api] = time.monotonic()
        self.upstream_calls.labels(api, operation, status).inc()
        self.upstream_latency.labels(api, operation).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
