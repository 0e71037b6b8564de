"""The reconciler: find conversations that should be linked and are not, and link them.

Webhooks alone lose links: tags are not in payloads, adding a tag fires nothing, and FreeScout drops a
delivery after 10 failures. The sweep lists candidates through the API and sends each one through the same
``Linker.reconcile`` path, locks and guards as a webhook, so a sweep racing a delivery still yields one issue.
Conversations that only the opt-in keyword scan would match are not listed (the API filters by tag only).
A pass over every mailbox ends with the return path's catch-up (``bridge.catch_up``) when the GitHub
webhook route is on: GitHub events whose delivery was lost, or whose fan-out a crash cut, reach their
tickets there.

Candidates created before the cut-off (bridge/cutoff.py) are held back without a call each: counted,
logged in one line per pass and listed in the report, never linked. ``limit`` caps how many candidates one
pass sends to the linker (oldest first); the rest wait for the next pass and are counted as deferred.
The report names every conversation it handled (id, mailbox, subject, tags, age, outcome, reason) so a
dry run says exactly what switching on would link.
"""

from __future__ import annotations

import fcntl
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge import cutoff, logs, retry
from bridge.catch_up import CatchUpReport
from bridge.errors import BudgetExhausted, UpstreamError
from bridge.freescout_api import FreeScoutAPI
from bridge.linker import Linker, Outcome
from bridge.mailboxes import MailboxDirectory

log = logs.get_logger()
ITEM_DEADLINE_SECONDS = 20.0
SUBJECT_CHARS = 60
HELD_BACK_LOGGED = 20  # ids named in the pass's held-back log line; the report lists them all


@dataclass(frozen=True)
class Candidate:
    """A conversation the list API returned for a trigger tag, with what the listing shows of it."""

    id: int
    mailbox_id: int
    subject: str
    tags: tuple[str, ...]  # the trigger tags it was listed under (list items carry no tags)
    created_at: str


def trimmed(subject: str, limit: int = SUBJECT_CHARS) -> str:
    text = " ".join(subject.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class SweepReport:
    candidates: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    stopped_early: str = ""
    issue_urls: dict[int, str] = field(default_factory=dict)
    catch_up: CatchUpReport | None = None  # GitHub → FreeScout: None when the pass was scoped to mailboxes
    cutoff: str = ""  # cutoff.describe(...)
    held_back: int = 0
    deferred: int = 0  # over ``limit``: left for the next pass
    items: list[dict[str, Any]] = field(default_factory=list)  # one per conversation handled or held back

    def summary(self) -> dict[str, object]:
        """What the pass's log line carries: counts, never subjects."""
        return {
            "candidates": self.candidates,
            "outcomes": dict(self.outcomes),
            "errors": dict(self.errors),
            "stopped_early": self.stopped_early,
            "held_back": self.held_back,
            "deferred": self.deferred,
            "catch_up": self.catch_up.as_dict() if self.catch_up is not None else None,
        }

    def as_dict(self) -> dict[str, object]:
        return {
            **self.summary(),
            "issue_urls": {str(k): v for k, v in sorted(self.issue_urls.items())},
            "cutoff": self.cutoff,
            "items": self.items,
        }


async def candidate_ids(
    api: FreeScoutAPI, mailboxes: MailboxDirectory, tags: tuple[str, ...], only: frozenset[int] | None = None
) -> list[int]:
    """Ids of published, active or pending conversations carrying a trigger tag and no link, oldest first."""
    return [c.id for c in await candidates(api, mailboxes, tags, only)]


async def candidates(
    api: FreeScoutAPI, mailboxes: MailboxDirectory, tags: tuple[str, ...], only: frozenset[int] | None = None
) -> list[Candidate]:
    """Published, active or pending conversations carrying a trigger tag and no link, oldest first."""
    await mailboxes.load()
    ids = mailboxes.configured_ids()
    if only is not None:
        ids = only if ids is None else ids & only
    scope: list[int | None] = [*sorted(ids)] if ids is not None else [None]
    found: dict[int, Candidate] = {}
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
                        seen = found.get(conv.id)
                        listed = (seen.tags if seen else ()) + (
                            (tag,) if not seen or tag not in seen.tags else ()
                        )
                        found[conv.id] = Candidate(
                            conv.id, conv.mailbox_id, trimmed(conv.subject), listed, conv.created_at
                        )
    return sorted(found.values(), key=lambda c: (c.created_at, c.id))


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


OnItem = Callable[[int, Outcome], None]


@dataclass(frozen=True)
class SweepScope:
    """What one pass covers: trigger tags, mailboxes, the cut-off and an optional cap."""

    tags: tuple[str, ...]
    only: frozenset[int] | None = None
    link_since: datetime | None = None
    max_age_days: float = 0.0
    limit: int | None = None


async def sweep(
    linker: Linker,
    api: FreeScoutAPI,
    mailboxes: MailboxDirectory,
    tags: tuple[str, ...] | SweepScope,
    only: frozenset[int] | None = None,
    *,
    on_item: OnItem | None = None,
    now: datetime | None = None,
) -> SweepReport:
    """One pass, unless another sweep on this host is running (then it reports that and does nothing).

    Respects the flag through the linker (off: report ``would_link``, write nothing). ``on_item`` hears
    each conversation's outcome (the web process feeds its status page with it).
    """
    if isinstance(tags, SweepScope):
        scope = tags
    else:  # the cut-off always comes from the config the linker decides with
        config = linker.settings.config
        scope = SweepScope(tags, only, config.link_since, config.max_age_days)
    with exclusive() as mine:
        if not mine:
            report = SweepReport(stopped_early="another sweep is running on this host")
            log.info("sweep", **report.summary())
            return report
        return await _sweep(linker, api, mailboxes, scope, on_item, now or datetime.now(UTC))


def _item(
    candidate: Candidate, mailboxes: MailboxDirectory, now: datetime, outcome: Outcome
) -> dict[str, Any]:
    return {
        "conversation_id": candidate.id,
        "mailbox_id": candidate.mailbox_id,
        "mailbox": mailboxes.name(candidate.mailbox_id),
        "subject": candidate.subject,
        "tags": list(candidate.tags),
        "created_at": candidate.created_at,
        "age": cutoff.age(candidate.created_at, now),
        "outcome": outcome.decision,
        "reason": outcome.reason,
        "issue_url": outcome.issue_url,
    }


async def _sweep(
    linker: Linker,
    api: FreeScoutAPI,
    mailboxes: MailboxDirectory,
    scope: SweepScope,
    on_item: OnItem | None,
    now: datetime,
) -> SweepReport:
    report = SweepReport(cutoff=cutoff.describe(scope.link_since, scope.max_age_days, now))
    with retry.deadline_in(120):
        found = await candidates(api, mailboxes, scope.tags, scope.only)
    report.candidates = len(found)
    limit_at = cutoff.cutoff_at(scope.link_since, scope.max_age_days, now)
    held = [c for c in found if cutoff.held_back(c.created_at, limit_at)]
    todo = [c for c in found if not cutoff.held_back(c.created_at, limit_at)]
    if held:
        report.held_back = len(held)
        hold = Outcome("held_back", cutoff.REASON)
        report.items.extend(_item(c, mailboxes, now, hold) for c in held)
        log.info(
            "sweep_held_back",
            count=len(held),
            reason=cutoff.REASON,
            cutoff=cutoff.stamp(limit_at) if limit_at else "",
            conversation_ids=[c.id for c in held[:HELD_BACK_LOGGED]],
        )
    if scope.limit is not None and len(todo) > scope.limit:
        report.deferred = len(todo) - scope.limit
        todo = todo[: scope.limit]
    for candidate in todo:
        try:
            with retry.deadline_in(ITEM_DEADLINE_SECONDS):
                outcome = await linker.reconcile(candidate.id)
        except BudgetExhausted as exc:
            report.errors[f"{exc.api}:{exc.reason}"] += 1
            report.stopped_early = f"{exc.reason}; retry after {exc.retry_after or 60:.0f} s"
            break
        except UpstreamError as exc:
            report.errors[f"{exc.api}:{exc.reason}"] += 1
            log.warning("sweep_item_failed", conversation_id=candidate.id, reason=exc.reason, hint=exc.hint)
            outcome = Outcome("failed", f"{exc.api}:{exc.reason}")
            report.items.append(_item(candidate, mailboxes, now, outcome))
            if on_item is not None:
                on_item(candidate.id, outcome)
            continue
        report.outcomes[outcome.decision] += 1
        if outcome.issue_url:
            report.issue_urls[candidate.id] = outcome.issue_url
        report.items.append(_item(candidate, mailboxes, now, outcome))
        if on_item is not None:
            on_item(candidate.id, outcome)
    if scope.only is None and not report.stopped_early and linker.return_path.catches_up:
        # GitHub never retries a delivery: re-read recently updated linked issues and finish their fan-outs.
        report.catch_up = await linker.return_path.catch_up()
        report.errors.update({f"catch_up:{k}": v for k, v in report.catch_up.errors.items()})
    log.info("sweep", **report.summary())
    return report
