"""Prometheus metrics, one registry per app instance (tests build many apps; nothing global).

Every label is bounded: event names outside the known set become ``other``, and no label ever carries
a conversation id, an issue number or a URL. The ``*_created`` series are switched off: no dashboard or
alert reads them and they doubled the series count. The names the Grafana dashboard and the alert rules
in ``ops/`` use are pinned by ``tests/ops``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bridge.criteria import CONVERSATION_EVENTS
from bridge.decisions import Activity

_KNOWN_EVENTS = CONVERSATION_EVENTS | {
    "convo.deleted",
    "convo.deleted_forever",
    "customer.created",
    "customer.updated",
    "issues",  # GitHub deliveries (route ``github``)
    "issue_comment",
    "ping",
}
SWEEP_RESULTS = ("ok", "stopped_early", "failed")


def bounded_event(event: str) -> str:
    return event if event in _KNOWN_EVENTS else "other"


class BudgetSource(Protocol):
    """What the GitHub write gate tells about its budget (``github_gate.WriteGate``)."""

    def budget_left(self) -> dict[str, int]: ...

    def blocked_for(self) -> float: ...


class _LiveState(Collector):
    """Gauges read at scrape time: GitHub's write budget and each upstream's last success (wall clock)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        seen = GaugeMetricFamily(
            "bridge_upstream_last_success_timestamp_seconds",
            "Unix time of the last successful call to each upstream (absent until one succeeds)",
            labels=["api"],
        )
        for api, when in sorted(self._metrics.last_success_wall.items()):
            seen.add_metric([api], when)
        yield seen
        gate = self._metrics.budget
        if gate is None:
            return
        left = GaugeMetricFamily(
            "bridge_github_write_budget_remaining",
            "GitHub content writes this process may still make in the window (the bridge's own budget)",
            labels=["window"],
        )
        for window, count in sorted(gate.budget_left().items()):
            left.add_metric([window], count)
        yield left
        yield GaugeMetricFamily(
            "bridge_github_retry_after_seconds",
            "Seconds left in a retry-after window GitHub imposed (0 when writes may go)",
            value=gate.blocked_for(),
        )


class Metrics:
    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # process-wide, idempotent
        self.last_success: dict[str, float] = {}
        self.last_success_wall: dict[str, float] = {}
        self.budget: BudgetSource | None = None
        self.activity = Activity()  # the status page's recent decisions and sweep times (not exported)
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
        for created in ("true", "false"):
            self.links.labels(created)
        self.closing_comments = Counter(
            "bridge_closing_comments", "Closing comments posted", registry=self.registry
        )
        self.sweeps = Counter(
            "bridge_sweeps", "Reconciler sweeps by result", ["result"], registry=self.registry
        )
        for result in SWEEP_RESULTS:  # at 0 from start-up, so "no sweep for 20 minutes" can alert
            self.sweeps.labels(result)
        self.registry.register(_LiveState(self))

    def watch_budget(self, gate: BudgetSource) -> None:
        """Expose the GitHub write gate's budget on ``/metrics`` (the lifespan builds the gate)."""
        self.budget = gate

    def sweep_ended(self, result: str, source: str, dry_run: bool, held_back: int | None = None) -> None:
        """Count a finished sweep pass (``ok``, ``stopped_early``, ``failed``) and remember when it ended."""
        self.sweeps.labels(result).inc()
        self.activity.sweep_ended(result, source, dry_run, held_back)

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
            self.last_success_wall[api] = time.time()
        self.upstream_calls.labels(api, operation, status).inc()
        self.upstream_latency.labels(api, operation).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
