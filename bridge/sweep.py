"""The reconciler: find conversations that should be linked and are not, and link them.

Webhooks alone lose links: tags are not in payloads, adding a tag fires nothing, and FreeScout drops a
delivery after 10 failures. The sweep lists candidates through the API and sends each one through the same
``Linker.reconcile`` path, locks and guards as a webhook, so a sweep racing a delivery still yields one issue.
Conversations that only the opt-in keyword scan would match are not listed (the API filters by tag only).
A pass over every mailbox ends with the return path's catch-up (``bridge.catch_up``) when the GitHub
webhook route is on: GitHub events whose delivery was lost, or whose fan-out a crash cut, reach their
tickets there.
"""

from __future__ import annotations

import fcntl
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bridge import logs, retry
from bridge.catch_up import CatchUpReport
from bridge.errors import BudgetExhausted, UpstreamError
from bridge.freescout_api import FreeScoutAPI
from bridge.linker import Linker
from bridge.mailboxes import MailboxDirectory

log = logs.get_logger()
ITEM_DEADLINE_SECONDS = 20.0


@dataclass
class SweepReport:
    candidates: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    stopped_early: str = ""
    issue_urls: dict[int, str] = field(default_factory=dict)
    catch_up: CatchUpReport | None = None  # GitHub → FreeScout: None when the pass was scoped to mailboxes

    def as_dict(self) -> dict[str, object]:
        return {
            "candidates": self.candidates,
            "outcomes": dict(self.outcomes),
            "errors": dict(self.errors),
            "stopped_early": self.stopped_early,
            "issue_urls": {str(k): v for k, v in sorted(self.issue_urls.items())},
            "catch_up": self.catch_up.as_dict() if self.catch_up is not None else None,
        }


async def candidate_ids(
    api: FreeScoutAPI, mailboxes: MailboxDirectory, tags: tuple[str, ...], only: frozenset[int] | None = None
) -> list[int]:
    """Ids of published, active or pending conversations carrying a trigger tag and no link, oldest first."""
    await mailboxes.load()
    ids = mailboxes.configured_ids()
    if only is not None:
        ids = only if ids is None else ids & only
    scope: list[int | None] = [*sorted(ids)] if ids is not None else [None]
    found: dict[int, str] = {}
    for mailbox in scope:
        for tag in tags:
            for status in ("active", "pending"):
                filters: dict[str, object] = {
                    "tag": tag,
                    "status": status,
                    "state": "published",
                    "sortField": "createdAt",
                    "sortOrder": "asc",
                }
                if mailbox is not None:
                    filters["mailboxId"] = mailbox
                async for conv in api.list_conversations(**filters):
                    if not conv.github_issue_url and conv.state in ("published", ""):
                        found.setdefault(conv.id, conv.created_at)
    return sorted(found, key=lambda cid: (found[cid], cid))


def lock_path() -> Path:
    """One lock file per host: concurrent sweeps on this machine (schedule, cron, by hand) take turns."""
    return Path(tempfile.gettempdir()) / "freescout-bridge-sweep.lock"


@contextmanager
def exclusive(path: Path | None = None) -> Iterator[bool]:
    """Yield ``True`` while holding the host's sweep lock, ``False`` if another sweep holds it."""
    target = path or lock_path()
    with open(target, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


async def sweep(
    linker: Linker,
    api: FreeScoutAPI,
    mailboxes: MailboxDirectory,
    tags: tuple[str, ...],
    only: frozenset[int] | None = None,
) -> SweepReport:
    """One pass, unless another sweep on this host is running (then it reports that and does nothing).

    Respects the flag through the linker (off: report ``would_link``, write nothing).
    """
    with exclusive() as mine:
        if not mine:
            report = SweepReport(stopped_early="another sweep is running on this host")
            log.info("sweep", **report.as_dict())
            return report
        return await _sweep(linker, api, mailboxes, tags, only)


async def _sweep(
    linker: Linker,
    api: FreeScoutAPI,
    mailboxes: MailboxDirectory,
    tags: tuple[str, ...],
    only: frozenset[int] | None,
) -> SweepReport:
    report = SweepReport()
    with retry.deadline_in(120):
        ids = await candidate_ids(api, mailboxes, tags, only)
    report.candidates = len(ids)
    for conversation_id in ids:
        try:
            with retry.deadline_in(ITEM_DEADLINE_SECONDS):
                outcome = await linker.reconcile(conversation_id)
        except BudgetExhausted as exc:
            report.errors[f"{exc.api}:{exc.reason}"] += 1
            report.stopped_early = f"{exc.reason}; retry after {exc.retry_after or 60:.0f} s"
            break
        except UpstreamError as exc:
            report.errors[f"{exc.api}:{exc.reason}"] += 1
            log.warning(
                "sweep_item_failed", conversation_id=conversation_id, reason=exc.reason, hint=exc.hint
            )
            continue
        report.outcomes[outcome.decision] += 1
        if outcome.issue_url:
            report.issue_urls[conversation_id] = outcome.issue_url
    if only is None and not report.stopped_early and linker.return_path.catches_up:
        # GitHub never retries a delivery: re-read recently updated linked issues and finish their fan-outs.
        report.catch_up = await linker.return_path.catch_up()
        report.errors.update({f"catch_up:{k}": v for k, v in report.catch_up.errors.items()})
    log.info("sweep", **report.as_dict())
    return report
