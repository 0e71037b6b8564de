"""The process's return path: one reconcile per issue at a time, and the catch-up pass of the sweep.

GitHub never retries a failed delivery, and a fan-out can be cut by a crash or by FreeScout failing
half-way. The catch-up pass is the backstop: it lists the issues the bridge cares about (labelled
``freescout-linked``, ``customer-reported`` or ``regression``) updated within ``[return_path]
catch_up_hours`` and reconciles each through the same ``bridge.fan_out.reconcile_issue`` as a webhook,
under the same per-conversation locks and in-doubt ledger. Whatever was left undone is written; what was
done is found by its hidden key and not written again.

It runs only while the webhook route is configured (``GITHUB_WEBHOOK_SECRET``): with the Actions route,
the workflow re-runs its own failures, and the two routes must not both write (runbooks/close-the-loop.md).

To spare GitHub's hourly budget, an issue whose last reconcile here left nothing failed or pending is not
read again until it changes (its ``updated_at``) or ``RECHECK_SECONDS`` pass; a restart forgets that and
re-reads everything once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import anyio.to_thread

from bridge import logs, retry
from bridge.errors import BudgetExhausted, UpstreamError
from bridge.fan_out import FanOutReport, IssueSource, Target, reconcile_issue
from bridge.freescout_api import FreeScoutAPI
from bridge.github_api import GitHubIssues
from bridge.github_source import GitHubIssueSource
from bridge.in_doubt import Ledger, Policy
from bridge.locks import KeyedLocks
from bridge.settings import Settings
from bridge.vocab import LABEL_CUSTOMER_REPORTED, LABEL_LINKED, LABEL_REGRESSION

log = logs.get_logger()

#: The labels whose issues can have linked tickets: Direction A's, and Direction B's triggers.
CATCH_UP_LABELS = (LABEL_LINKED, LABEL_CUSTOMER_REPORTED, LABEL_REGRESSION)
#: A settled issue is read again after this long even when GitHub says it did not change: a ticket can
#: change (restored, field set late) without touching the issue.
RECHECK_SECONDS = 3600.0
ISSUE_DEADLINE_SECONDS = 60.0
#: Ticket outcomes that may change without the issue changing: such an issue is not marked settled.
_UNSETTLED = frozenset({"failed", "field_empty", "ticket_not_found"})


@dataclass
class CatchUpReport:
    """What one catch-up pass did; ``tickets`` counts ticket outcomes (``updated``, ``skipped`` …)."""

    issues: int = 0
    unchanged: int = 0
    reconciled: int = 0
    tickets: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    stopped_early: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "issues": self.issues,
            "unchanged": self.unchanged,
            "reconciled": self.reconciled,
            "tickets": dict(self.tickets),
            "errors": dict(self.errors),
            "stopped_early": self.stopped_early,
        }


class ReturnPath:
    """GitHub → FreeScout for one process: shared by the GitHub webhook route and the sweep."""

    def __init__(
        self,
        settings: Settings,
        freescout: FreeScoutAPI,
        github: GitHubIssues,
        locks: KeyedLocks,
        ledger: Ledger,
        *,
        source: IssueSource | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repository = settings.github_repository
        self.freescout = freescout
        self.github = github
        self.locks = locks
        self.ledger = ledger
        self.source: IssueSource = source or GitHubIssueSource(github)
        self.target = Target(
            config=settings.config.return_path,
            bot_user_id=settings.bot_user_id,
            live=settings.autolink_enabled,
            policy=Policy(settings.config.in_doubt_freescout_seconds),
            bridge_logins=settings.github_bridge_logins,
        )
        self.catch_up_hours = settings.config.return_path.catch_up_hours
        #: The catch-up backs the webhook route only: GitHub does not retry its deliveries, while Actions
        #: re-runs its own, and a second process reconciling beside the workflow could double a note.
        self.catches_up = bool(settings.github_webhook_secrets) and self.catch_up_hours > 0
        self._issues = KeyedLocks()  # one reconcile per issue at a time: later triggers re-read after it
        self._settled: dict[int, tuple[str, float]] = {}
        self._clock = clock

    async def reconcile(self, number: int, *, updated_at: str = "") -> FanOutReport:
        """Every ticket linked to issue ``number`` gets what it lacks (``bridge.fan_out``)."""
        async with self._issues.hold(number):
            report = await reconcile_issue(
                number,
                repository=self.repository,
                source=self.source,
                freescout=self.freescout,
                target=self.target,
                ledger=self.ledger,
                locks=self.locks,
            )
        outcomes = {t.outcome for t in report.tickets} | {t.reason for t in report.tickets}
        if updated_at and not outcomes & _UNSETTLED:
            self._settled[number] = (updated_at, self._clock())
        else:
            self._settled.pop(number, None)
        return report

    def _unchanged(self, number: int, updated_at: str) -> bool:
        seen = self._settled.get(number)
        return seen is not None and seen[0] == updated_at and self._clock() - seen[1] < RECHECK_SECONDS

    async def _recent(self, since: datetime) -> dict[int, str]:
        found: dict[int, str] = {}
        for label in CATCH_UP_LABELS:
            pairs = await anyio.to_thread.run_sync(self.github.recently_updated, label, since)
            found.update(pairs)
        return found

    async def catch_up(self, now: datetime | None = None) -> CatchUpReport:
        """Reconcile every recently updated issue that may have linked tickets; see the module."""
        report = CatchUpReport()
        if self.catch_up_hours <= 0:
            report.stopped_early = "[return_path] catch_up_hours = 0"
            return report
        since = (now or datetime.now(UTC)) - timedelta(hours=self.catch_up_hours)
        try:
            with retry.deadline_in(ISSUE_DEADLINE_SECONDS):
                recent = await self._recent(since)
        except UpstreamError as exc:
            report.errors[f"{exc.api}:{exc.reason}"] += 1
            report.stopped_early = f"listing issues failed: {exc.reason}"
            log.warning("catch_up", **report.as_dict())
            return report
        report.issues = len(recent)
        for number, updated_at in sorted(recent.items()):
            if self._unchanged(number, updated_at):
                report.unchanged += 1
                continue
            try:
                with retry.deadline_in(ISSUE_DEADLINE_SECONDS):
                    result = await self.reconcile(number, updated_at=updated_at)
            except BudgetExhausted as exc:
                report.errors[f"{exc.api}:{exc.reason}"] += 1
                report.stopped_early = f"{exc.reason}; retry after {exc.retry_after or 60:.0f} s"
                break
            except UpstreamError as exc:
                report.errors[f"{exc.api}:{exc.reason}"] += 1
                log.warning("catch_up_issue_failed", issue=f"{self.repository}#{number}", reason=exc.reason)
                continue
            report.reconciled += 1
            report.tickets.update(t.outcome for t in result.tickets)
            report.errors.update(t.reason for t in result.failed)
        log.info("catch_up", **report.as_dict())
        return report
