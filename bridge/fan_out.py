"""GitHub → FreeScout: bring every ticket linked to one issue up to date with the issue, on fresh state.

The one shell behind every trigger: a GitHub webhook (web process), an Actions run (``freescout-sync``)
and the catch-up pass of the sweep all call ``reconcile_issue``. It is a reconcile, not a replay: it reads
the issue and its comments now, derives the link set from them (``bridge.links``), reads each linked
ticket now and writes only what ``bridge.return_path.plan_ticket`` says the ticket lacks. A redelivery, a
second transport, a concurrent run or a re-run after a crash therefore writes nothing twice, and writes
whatever an earlier attempt left undone.

Per ticket the order is status first, then the note: the note (with its hidden key) marks the notice as
done, so a crash between the two is finished by the next attempt. Notes go through ``bridge.in_doubt``.
Tickets are handled concurrently (bounded), each under the process's per-conversation lock, so a ticket
is never written by this pass and by Direction A at the same moment. One ticket failing does not stop the
others; the report says which failed, and a later trigger finishes them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

import anyio

from bridge import logs
from bridge.errors import PermanentUpstreamError, UpstreamError
from bridge.freescout_api import FreeScoutAPI, ThreadType
from bridge.github_model import IssueComment, IssueView
from bridge.in_doubt import Ledger, Policy, Write, write_once
from bridge.links import LinkedTicket, linked_conversations
from bridge.locks import KeyedLocks
from bridge.model import Conversation
from bridge.return_path import Skip, notice_keys, plan_ticket
from bridge.settings import ReturnPathConfig
from bridge.writes import AddNote, SetStatus, TicketWrite

log = logs.get_logger()

#: FreeScout calls in flight at once during a fan-out: fast enough for 50 tickets at 100 ms a call, gentle
#: enough for a small PHP server.
CONCURRENCY = 8


class IssueSource(Protocol):
    """Fresh GitHub state for one issue: implemented by the web process's and the Actions script's client."""

    async def issue_view(self, number: int) -> IssueView | None:
        """The issue now, or ``None`` when GitHub says it does not exist."""

    async def issue_comments(self, number: int) -> list[IssueComment]:
        """Every comment on the issue (every page), oldest first."""


@dataclass(frozen=True)
class Target:
    """Who writes, and how: the same for every ticket of one pass."""

    config: ReturnPathConfig
    bot_user_id: int
    live: bool  # shadow mode (flag off) reads and decides, and writes nothing
    policy: Policy  # the FreeScout in-doubt window (and, in a one-shot run, its patience)
    bridge_logins: Collection[str] = ()


@dataclass
class TicketResult:
    conversation_id: int
    outcome: str  # "updated" | "would_update" | "skipped" | "failed"
    reason: str
    writes: list[str] = field(default_factory=list)


@dataclass
class FanOutReport:
    issue: str
    outcome: str = "reconciled"  # "reconciled" | "issue_not_found" | "pull_request"
    tickets: list[TicketResult] = field(default_factory=list)

    @property
    def failed(self) -> list[TicketResult]:
        return [t for t in self.tickets if t.outcome == "failed"]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for ticket in self.tickets:
            counts[ticket.outcome] = counts.get(ticket.outcome, 0) + 1
        return counts

    def as_dict(self) -> dict[str, object]:
        return {
            "issue": self.issue,
            "outcome": self.outcome,
            "tickets": [vars(t) for t in self.tickets],
            "counts": self.counts(),
        }


async def reconcile_issue(
    number: int,
    *,
    repository: str,
    source: IssueSource,
    freescout: FreeScoutAPI,
    target: Target,
    ledger: Ledger,
    locks: KeyedLocks,
    concurrency: int = CONCURRENCY,
) -> FanOutReport:
    """Every ticket linked to issue ``number`` gets the notices (and status) it lacks; see the module."""
    report = FanOutReport(f"{repository}#{number}")
    issue = await source.issue_view(number)
    if issue is None:
        report.outcome = "issue_not_found"
        return report
    if issue.is_pull_request:
        report.outcome = "pull_request"
        return report
    comments = await source.issue_comments(number)
    links = linked_conversations(issue.body, comments, issue_created_at=issue.created_at)
    limiter = anyio.Semaphore(max(1, concurrency))

    async def one(link: LinkedTicket) -> None:
        try:
            async with limiter, locks.hold(link.conversation_id):
                result = await _ticket(issue, comments, link, freescout, target, ledger)
        except Exception as exc:
            log.error("return_path_ticket_bug", conversation_id=link.conversation_id, exc_info=True)
            result = TicketResult(link.conversation_id, "failed", f"bug:{type(exc).__name__}")
        report.tickets.append(result)

    async with anyio.create_task_group() as group:
        for link in links:
            group.start_soon(one, link)
    report.tickets.sort(key=lambda t: t.conversation_id)
    return report


async def _ticket(
    issue: IssueView,
    comments: list[IssueComment],
    link: LinkedTicket,
    freescout: FreeScoutAPI,
    target: Target,
    ledger: Ledger,
) -> TicketResult:
    """One ticket: read it, plan, write; every failure becomes a result (the others go on)."""
    cid = link.conversation_id
    try:
        ticket = await freescout.get_conversation(cid)
    except PermanentUpstreamError as exc:
        if exc.status == 404:
            return _logged(TicketResult(cid, "skipped", "ticket_not_found"), issue)
        return _logged(TicketResult(cid, "failed", f"{exc.api}:{exc.reason}"), issue)
    except UpstreamError as exc:
        return _logged(TicketResult(cid, "failed", f"{exc.api}:{exc.reason}"), issue)
    plan = plan_ticket(
        issue, comments, link, ticket, target.config, target.bot_user_id, bridge_logins=target.bridge_logins
    )
    if isinstance(plan, Skip):
        return _logged(TicketResult(cid, "skipped", plan.reason), issue)
    if not target.live:
        return _logged(TicketResult(cid, "would_update", "shadow_mode", [_describe(w) for w in plan]), issue)
    result = TicketResult(cid, "updated", "notified")
    try:
        for write in plan:
            await _carry_out(write, ticket, freescout, target, ledger)
            result.writes.append(_describe(write))
    except UpstreamError as exc:
        result.outcome, result.reason = "failed", f"{exc.api}:{exc.reason}"
    return _logged(result, issue)


async def _carry_out(
    write: TicketWrite, ticket: Conversation, freescout: FreeScoutAPI, target: Target, ledger: Ledger
) -> None:
    if isinstance(write, SetStatus):
        # Idempotent: setting the status it already has changes nothing; retried like any idempotent call.
        await freescout.set_status(write.conversation_id, write.status, write.by_user)
        return
    await _note_once(write, freescout, target, ledger)


async def _note_once(note: AddNote, freescout: FreeScoutAPI, target: Target, ledger: Ledger) -> None:
    """The notice, once: the plan came from fresh threads that lack its key, so the first look is free."""
    cid = note.conversation_id

    async def look() -> bool | None:
        fresh = await freescout.get_conversation(cid)
        return True if note.key in notice_keys(fresh) else None

    async def send() -> bool:
        await freescout.add_thread(cid, ThreadType.NOTE, note.html, note.user)
        return True

    write = Write(("notice", cid, note.key), "freescout", "add_thread", look=look, send=send)
    await write_once(write, ledger, target.policy, looked=True)


def _describe(write: TicketWrite) -> str:
    if isinstance(write, SetStatus):
        return f"set_status:{write.status}"
    return f"add_note:{write.key}"


def _logged(result: TicketResult, issue: IssueView) -> TicketResult:
    level = "warning" if result.outcome == "failed" else "info"
    getattr(log, level)(
        "return_path_ticket",
        issue=issue.ref,
        conversation_id=result.conversation_id,
        outcome=result.outcome,
        reason=result.reason,
        writes=result.writes,
    )
    return result
