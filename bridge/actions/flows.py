"""Direction B's two behaviours, on fresh state, in a crash-safe write order.

Filing a ticket (``customer-reported``, ``regression``), each step finished by a re-run after a crash or a
lost response, never repeated:

1. look for a ticket whose ``github_issue_url`` is this issue; create one (the field set in the create
   call itself) only if none exists, and after a failed create look again before another try;
2. replace its tags with ours merged into what it has (idempotent);
3. post the sentinel comment, the GitHub-side lock; after a failed post, read every comment page again.

Asking for confirmation (``needs-customer-confirm``): one internal note on the linked ticket, posted only
while fresh threads show none by the bot about this issue. When that label arrives together with a ticket
label, its run may come first and find no ticket yet; the ticket run then posts the note itself.

Dry runs (flag off) do every read and stop before the first write, recording what they would write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
import anyio.to_thread

from bridge import retry
from bridge.actions.config import ActionsConfig
from bridge.actions.decide import (
    Action,
    Comment,
    Decision,
    IssueState,
    LabelEvent,
    confirm_note_exists,
    decide_confirm,
    decide_create,
    merged_tags,
    ticket_comment,
    ticket_tags,
    ticket_url_in,
)
from bridge.actions.freescout import Desk, Misconfigured, OpsMailbox, ticket_payload
from bridge.actions.github import IssueClient
from bridge.actions.render import Report, confirm_note_html, conversation_url
from bridge.freescout_api import ThreadType
from bridge.in_doubt import Ledger, Policy, Write, write_once
from bridge.vocab import LABEL_NEEDS_CONFIRM

T = TypeVar("T")


@dataclass
class Context:
    cfg: ActionsConfig
    event: LabelEvent
    issues: IssueClient
    desk: Desk
    report: Report
    ledger: Ledger = field(default_factory=Ledger)

    def ticket_url(self, conversation_id: int) -> str:
        return conversation_url(self.cfg.freescout_url, conversation_id)


async def _read(fn: Callable[[], T]) -> T:
    """A GitHub read in a worker thread, under the central retry policy (reads are idempotent)."""

    async def attempt() -> T:
        return await anyio.to_thread.run_sync(fn)

    return await retry.call(attempt)


def _policy(seconds: float) -> Policy:
    """A one-shot run may wait: it looks for a write in doubt for the whole window before giving up."""
    return Policy(window=seconds, patience=seconds, poll=min(2.0, max(seconds / 10, 0.05)))


async def _once(ctx: Context, write: Write[T], seconds: float, *, looked: bool = False) -> tuple[T, bool]:
    return await write_once(write, ctx.ledger, _policy(seconds), looked=looked)


async def _fresh_issue(ctx: Context) -> tuple[IssueState, list[Comment]]:
    """The issue as it is now, and every page of its comments: the payload may be stale."""
    number = ctx.event.issue.number
    issue = await _read(lambda: ctx.issues.get_issue(number))
    comments = await _read(lambda: ctx.issues.comments(number))
    ctx.report.issue_url = issue.html_url or ctx.report.issue_url
    return issue, comments


def _skip(ctx: Context, decision: Decision) -> None:
    ctx.report.outcome = "skipped"
    ctx.report.reason = decision.detail
    if decision.conversation_id is not None:
        ctx.report.links.append(("FreeScout ticket", ctx.ticket_url(decision.conversation_id)))


async def _create_once(ctx: Context, issue: IssueState, mailbox: OpsMailbox) -> tuple[int, bool]:
    """Create the ticket once; the caller has just looked and found none."""
    payload = ticket_payload(ctx.cfg, issue, mailbox, ctx.event.label, ctx.event.sender)

    async def look() -> int | None:
        found = await ctx.desk.find_ticket(mailbox.id, issue)
        return None if found is None else found.id

    async def send() -> int:
        return await ctx.desk.api.create_conversation(payload)

    write = Write(("ticket", issue.html_url), "freescout", "create_conversation", look=look, send=send)
    return await _once(ctx, write, ctx.cfg.in_doubt_freescout_seconds, looked=True)


async def _comment_once(ctx: Context, number: int, ticket_url: str) -> str:
    """The sentinel comment once, looked for on every comment page."""
    body = ticket_comment(ticket_url)

    async def look() -> str | None:
        for comment in await _read(lambda: ctx.issues.comments(number)):
            if ticket_url_in(comment.body):
                return comment.html_url
        return None

    async def send() -> str:
        return await anyio.to_thread.run_sync(lambda: ctx.issues.post_comment(number, body))

    write = Write(("sentinel", number), "github", "create_comment", look=look, send=send)
    url, _ = await _once(ctx, write, ctx.cfg.in_doubt_github_seconds)
    return url


async def _note_once(ctx: Context, issue: IssueState, ticket_id: int, sender: str) -> None:
    """The confirmation note once; the caller has just read the ticket's threads and found none."""
    note = confirm_note_html(issue, ctx.cfg.repository, sender)
    url, bot = issue.html_url or ctx.event.issue.html_url, ctx.cfg.bot_user_id

    async def look() -> bool | None:
        return True if confirm_note_exists(await ctx.desk.api.get_conversation(ticket_id), url, bot) else None

    async def send() -> bool:
        await ctx.desk.api.add_thread(ticket_id, ThreadType.NOTE, note, bot)
        return True

    write = Write(("confirm_note", ticket_id), "freescout", "add_thread", look=look, send=send)
    await _once(ctx, write, ctx.cfg.in_doubt_freescout_seconds, looked=True)


async def file_ticket(ctx: Context) -> None:
    """``customer-reported`` / ``regression``: exactly one ticket per issue, then the sentinel."""
    report = ctx.report
    issue, comments = await _fresh_issue(ctx)
    decision = decide_create(issue, ctx.event.label, comments)
    if decision.action is Action.SKIP:
        return _skip(ctx, decision)
    if not issue.html_url:
        raise Misconfigured("GITHUB_API_URL", "GitHub returned the issue without html_url")
    mailbox = await ctx.desk.ops_mailbox()
    await ctx.desk.check_bot()
    tags = ticket_tags(issue.labels)
    tag_text = ", ".join(f"`{t}`" for t in tags)
    existing = await ctx.desk.find_ticket(mailbox.id, issue)
    report.reason = decision.detail
    if not ctx.cfg.live:
        report.outcome = "would_finish" if existing else "would_create"
        if existing is not None:
            report.links.append(("FreeScout ticket", ctx.ticket_url(existing.id)))
            report.reason = "an earlier run filed a ticket but did not finish; a live run finishes it"
        else:
            report.writes.append(
                f"create a ticket in mailbox {mailbox.name} (id {mailbox.id}), imported, no email"
            )
        report.writes += [f"set tags {tag_text}", "comment the ticket link on the issue"]
        if LABEL_NEEDS_CONFIRM in issue.labels:
            report.writes.append(
                f"post the customer confirmation note ({LABEL_NEEDS_CONFIRM} is on the issue)"
            )
        return
    if existing is not None:
        ticket_id, created = existing.id, False
    else:
        ticket_id, created = await _create_once(ctx, issue, mailbox)
    report.links.append(("FreeScout ticket", ctx.ticket_url(ticket_id)))
    current: tuple[str, ...] | None = None
    if created:
        report.outcome = "created"
        report.writes.append(f"created ticket {ticket_id} in mailbox {mailbox.name}")
    else:
        report.outcome = "finished"
        report.reason = "an earlier run filed this ticket but did not finish; finished it"
        current = (await ctx.desk.api.get_conversation(ticket_id)).tags
    await ctx.desk.api.set_tags(ticket_id, merged_tags(current, tags))
    report.writes.append(f"set tags {tag_text}")
    comment_url = await _comment_once(ctx, issue.number, ctx.ticket_url(ticket_id))
    report.writes.append("commented the ticket link on the issue")
    if comment_url:
        report.links.append(("Issue comment", comment_url))
    if LABEL_NEEDS_CONFIRM in issue.labels:
        # Its own run may have come first and found no ticket yet: ask here, once.
        fresh = await ctx.desk.api.get_conversation(ticket_id)
        if not confirm_note_exists(fresh, issue.html_url, ctx.cfg.bot_user_id):
            await _note_once(ctx, issue, ticket_id, sender="")  # not who added that label
            report.writes.append(
                f"posted the customer confirmation note ({LABEL_NEEDS_CONFIRM} is on the issue)"
            )


async def request_confirm(ctx: Context) -> None:
    """``needs-customer-confirm``: one internal note on the linked ticket, however often the run repeats."""
    report = ctx.report
    issue, comments = await _fresh_issue(ctx)
    decision = decide_confirm(issue, ctx.event.label, comments)
    if decision.action is Action.SKIP or decision.conversation_id is None:
        return _skip(ctx, decision)
    ticket_id = decision.conversation_id
    report.links.append(("FreeScout ticket", ctx.ticket_url(ticket_id)))
    await ctx.desk.check_bot()
    conv = await ctx.desk.linked_ticket(ticket_id)
    url, bot = issue.html_url or ctx.event.issue.html_url, ctx.cfg.bot_user_id
    if conv.state == "deleted":
        report.outcome, report.reason = "skipped", f"the linked ticket {ticket_id} is deleted in FreeScout"
        return
    if confirm_note_exists(conv, url, bot):
        report.outcome, report.reason = "skipped", "the ticket already has the confirmation request note"
        return
    report.reason = "linked " + decision.detail
    if not ctx.cfg.live:
        report.outcome = "would_note"
        report.writes.append(f"post an internal note on ticket {ticket_id} asking for customer confirmation")
        return
    await _note_once(ctx, issue, ticket_id, ctx.event.sender)
    report.outcome = "noted"
    report.writes.append(f"posted an internal note on ticket {ticket_id}")
