"""GitHub → FreeScout, the pure core: which issue an event touches, and what each linked ticket lacks.

It is a reconcile, not an event replay. The event only names the issue; the shell then reads fresh state
(the issue, every comment, each linked ticket with its threads) and ``plan_ticket`` returns the notes and
status changes that ticket should have and does not. Every note carries a hidden key, so whatever runs
it (webhook, Actions, catch-up pass, a redelivery, a restart after a crash) writes each note once.
Order per ticket: the status first, then the note, which is the "done" mark.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge import return_path_render as render
from bridge.github_model import IssueComment, IssueView, parse_comment, parse_issue_view
from bridge.links import LinkedTicket
from bridge.model import Conversation
from bridge.settings import ReturnPathConfig, StatusPolicy
from bridge.vocab import (
    UNLINKED,
    closed_notice_key,
    comment_notice_key,
    instant,
    is_bridge_comment,
    issue_key,
    issue_number_from_url,
    notice_keys_in,
    reopened_notice_key,
    support_text,
)
from bridge.writes import AddNote, SetStatus, TicketWrite

#: The ``issues`` actions that change what linked tickets should have been told.
LIFECYCLE_ACTIONS = frozenset({"closed", "reopened"})


@dataclass(frozen=True)
class Reconcile:
    """Reconcile this issue's linked tickets; ``trigger`` (``issues.closed`` …) is for the log line."""

    repository: str
    issue_number: int
    trigger: str
    comment_id: int | None = None


@dataclass(frozen=True)
class Ignore:
    """Nothing to do for this event, on purpose; ``reason`` is the log key."""

    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Skip:
    """Nothing to write to this ticket, and why (``deleted``, ``spam``, ``linked_elsewhere`` …)."""

    reason: str
    detail: str = ""


def _obj(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _route_comment(
    payload: Mapping[str, Any], issue: IssueView, bridge_logins: Collection[str]
) -> Ignore | None:
    try:
        comment = parse_comment(payload.get("comment"))
    except ValueError:
        return Ignore("no_comment", "the payload carries no comment")
    if issue.is_pull_request:
        return Ignore("pull_request", "comments on pull requests do not reach FreeScout")
    if comment.author_login.lower() in {b.lower() for b in bridge_logins}:
        return Ignore("own_comment", f"@{comment.author_login} is the bridge")
    if is_bridge_comment(comment.body):
        return Ignore("bridge_comment", "the comment carries the bridge's marker")
    if support_text(comment.body) is None:
        return Ignore("not_for_support", "the comment does not start with /support")
    if not comment.from_team:
        return Ignore(
            "not_from_team",
            f"@{comment.author_login} has no role on the repository ({comment.author_association})",
        )
    return None


def route_event(
    event: str, payload: Mapping[str, Any], *, repository: str, bridge_logins: Collection[str] = ()
) -> Reconcile | Ignore:
    """Which issue to reconcile for a GitHub event, or why none (a table, not a replay)."""
    action = payload.get("action")
    if event not in ("issues", "issue_comment"):
        return Ignore("ping" if event == "ping" else "event_not_handled", f"event `{event}`")
    wanted = LIFECYCLE_ACTIONS if event == "issues" else frozenset({"created"})
    if action not in wanted:
        return Ignore("action_not_handled", f"`{event}` action `{action}`")
    full_name = _obj(payload, "repository").get("full_name")
    if not isinstance(full_name, str) or full_name.lower() != repository.lower():
        return Ignore("other_repository", f"repository `{full_name}` is not `{repository}`")
    try:
        issue = parse_issue_view(payload.get("issue"), full_name)
    except ValueError:
        return Ignore("no_issue", "the payload carries no issue")
    if event == "issues":
        if issue.is_pull_request:
            return Ignore("pull_request", "pull requests are not linked to tickets")
        return Reconcile(repository, issue.number, f"issues.{action}")
    ignored = _route_comment(payload, issue, bridge_logins)
    if ignored is not None:
        return ignored
    comment_id = _obj(payload, "comment").get("id")
    return Reconcile(
        repository, issue.number, "issue_comment.created", comment_id if isinstance(comment_id, int) else None
    )


def support_comments(
    comments: Iterable[IssueComment], bridge_logins: Collection[str] = ()
) -> list[tuple[IssueComment, str]]:
    """The comments addressed to support, with their text after ``/support``, oldest first."""
    own = {b.lower() for b in bridge_logins}
    out = []
    for comment in sorted(comments, key=lambda c: c.id):
        message = support_text(comment.body)
        if (
            message
            and comment.from_team
            and comment.author_login.lower() not in own
            and not is_bridge_comment(comment.body)
        ):
            out.append((comment, message))
    return out


def _unlinked(issue: IssueView, ticket: Conversation) -> Skip | None:
    if ticket.state != "published":
        return Skip(ticket.state or "deleted", f"conversation {ticket.id} is {ticket.state or 'gone'}")
    if ticket.status == "spam":
        return Skip("spam", f"conversation {ticket.id} is spam")
    field = ticket.github_issue_url
    if issue_number_from_url(field, issue.repository) == issue.number:
        return None
    if field.lower() == UNLINKED:
        return Skip("unlinked", f"conversation {ticket.id} was unlinked")
    if not field:
        return Skip("field_empty", f"conversation {ticket.id} has no github_issue_url yet")
    return Skip("linked_elsewhere", f"conversation {ticket.id} now waits on {field}")


def _notes(ticket: Conversation) -> list[tuple[int, str]]:
    """(thread id, key) of every notice on the ticket."""
    return [(t.id, key) for t in ticket.threads if t.type == "note" for key in notice_keys_in(t.body)]


def notice_keys(ticket: Conversation) -> set[str]:
    """The keys of every notice the ticket already has: what a write looks for before it is sent."""
    return {key for _, key in _notes(ticket)}


def _newest_lifecycle(notes: list[tuple[int, str]], issue: IssueView) -> str:
    ref = issue_key(issue.repository, issue.number)
    lifecycle = [(tid, key) for tid, key in notes if key.startswith((f"closed:{ref}:", f"reopened:{ref}:"))]
    return max(lifecycle)[1] if lifecycle else ""


def _policy(issue: IssueView, config: ReturnPathConfig) -> StatusPolicy:
    if not issue.is_closed:
        return config.on_reopened
    by_reason = {"not_planned": config.on_not_planned, "duplicate": config.on_duplicate}
    return by_reason.get(issue.state_reason, config.on_completed)


def _lifecycle_note(
    issue: IssueView, link: LinkedTicket, notes: list[tuple[int, str]]
) -> tuple[str, str] | None:
    """(key, html) of the lifecycle notice the ticket lacks, if any."""
    if issue.is_closed and issue.closed_at:
        key = closed_notice_key(issue.repository, issue.number, issue.closed_at)
        linked_before = not link.since or instant(link.since) <= instant(issue.closed_at)
        if linked_before and key not in {k for _, k in notes}:
            return key, render.closed_notice(key, issue)
        return None
    closed_prefix = f"closed:{issue_key(issue.repository, issue.number)}:"
    newest = _newest_lifecycle(notes, issue)
    if not issue.is_closed and newest.startswith(closed_prefix):
        key = reopened_notice_key(issue.repository, issue.number, newest[len(closed_prefix) :])
        if key not in {k for _, k in notes}:
            return key, render.reopened_notice(key, issue)
    return None


def plan_ticket(
    issue: IssueView,
    comments: Iterable[IssueComment],
    link: LinkedTicket,
    ticket: Conversation,
    config: ReturnPathConfig,
    bot_user_id: int,
    *,
    bridge_logins: Collection[str] = (),
) -> list[TicketWrite] | Skip:
    """The writes ``ticket`` lacks for ``issue`` (fresh state both), or why it gets none."""
    if issue.is_pull_request:
        return Skip("pull_request", f"{issue.ref} is a pull request")
    unlinked = _unlinked(issue, ticket)
    if unlinked is not None:
        return unlinked
    notes = _notes(ticket)
    writes: list[TicketWrite] = []
    policy = _policy(issue, config)
    lifecycle = _lifecycle_note(issue, link, notes) if policy is not StatusPolicy.NOTHING else None
    if lifecycle is not None:
        if policy is StatusPolicy.NOTE_AND_ACTIVATE and ticket.status == "pending":
            writes.append(SetStatus(ticket.id, "active", bot_user_id))
        writes.append(AddNote(ticket.id, lifecycle[0], lifecycle[1], bot_user_id))
    have = {key for _, key in notes}
    for comment, message in support_comments(comments, bridge_logins):
        key = comment_notice_key(issue.repository, issue.number, comment.id)
        if link.hears_of(comment) and key not in have:
            writes.append(
                AddNote(ticket.id, key, render.comment_notice(key, issue, comment, message), bot_user_id)
            )
    return writes or Skip("up_to_date", f"conversation {ticket.id} already has every notice")
