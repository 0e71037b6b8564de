"""Direction B: a labelled GitHub issue becomes a FreeScout ticket or an internal note, from GitHub Actions.

Run as ``freescout-sync`` (or ``python -m bridge.actions_sync``) in a workflow on ``issues: [labeled]``.
The shell is thin: read the event and settings, re-read the issue, let ``actions_decide`` choose, do the
writes in a crash-safe order, and leave through one exit path that prints ``::error::`` annotations
naming the secret or variable to fix, one log line, and a Markdown step summary.

Write order for a ticket, each step finished by a re-run after a crash or a lost response:

1. look for a ticket whose ``github_issue_url`` is this issue; create one (field set in the create call)
   only if none exists, and after a failed create look again before another try;
2. replace its tags with ours merged into what it has (idempotent);
3. post the sentinel comment, the GitHub-side lock; after a failed post, read every comment page again.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, TypeVar

import anyio
import anyio.to_thread

from bridge import retry
from bridge.actions_config import (
    ActionsConfig,
    ConfigError,
    is_live,
    load_actions_config,
    repository_of,
    secret_values,
)
from bridge.actions_decide import (
    Action,
    Comment,
    Decision,
    IssueState,
    LabelEvent,
    confirm_note_exists,
    decide_confirm,
    decide_create,
    matching_ticket,
    merged_tags,
    needs_ticket_settings,
    route,
    ticket_comment,
    ticket_tags,
    ticket_url_in,
)
from bridge.actions_github import IssueClient, make_actions_github
from bridge.actions_render import (
    Problem,
    Report,
    add_mask,
    annotation,
    confirm_note_html,
    conversation_url,
    explain,
    issue_ref,
    log_line,
    subject,
    summary_markdown,
    ticket_html,
)
from bridge.errors import PermanentUpstreamError, UpstreamError
from bridge.freescout_api import FreeScoutAPI, ThreadType, make_client
from bridge.model import Conversation
from bridge.vocab import FIELD_GITHUB_ISSUE_URL, TAG_FROM_GITHUB

T = TypeVar("T")
DEADLINE_SECONDS = 240.0
WRITE_ATTEMPTS = 3
STATUSES = ("active", "pending", "closed", "spam")
LOOKBACK = timedelta(days=1)


class Misconfigured(Exception):
    """FreeScout answered, but not as configured: ``problem`` names the variable to fix."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(variable, message)


@dataclass
class Context:
    cfg: ActionsConfig
    event: LabelEvent
    issues: IssueClient
    fs: FreeScoutAPI
    report: Report


async def _read(fn: Callable[[], T]) -> T:
    """A GitHub read in a worker thread, under the central retry policy (reads are idempotent)."""

    async def attempt() -> T:
        return await anyio.to_thread.run_sync(fn)

    return await retry.call(attempt)


async def _once(fn: Callable[[], T]) -> T:
    """A GitHub write: exactly one attempt; the caller looks for it before any second try."""
    return await anyio.to_thread.run_sync(fn)


async def _pause(attempt: int, error: UpstreamError) -> None:
    await anyio.sleep(min(error.retry_after or 0.25 * 2**attempt, 5.0))


def _since(created_at: str) -> str | None:
    try:
        created = datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return (created - LOOKBACK).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _fresh_issue(ctx: Context) -> tuple[IssueState, list[Comment]]:
    number = ctx.event.issue.number
    issue = await _read(lambda: ctx.issues.get_issue(number))
    comments = await _read(lambda: ctx.issues.comments(number))
    ctx.report.issue_url = issue.html_url or ctx.report.issue_url
    return issue, comments


def _skip(ctx: Context, decision: Decision) -> None:
    ctx.report.outcome = "skipped"
    ctx.report.reason = decision.detail
    if decision.conversation_id is not None:
        ctx.report.links.append(
            ("FreeScout ticket", conversation_url(ctx.cfg.freescout_url, decision.conversation_id))
        )


async def _ops_mailbox(ctx: Context) -> tuple[int, str]:
    ref = ctx.cfg.ops_mailbox
    for box in await ctx.fs.list_mailboxes():
        box_id, email = box.get("id"), str(box.get("email") or "").lower()
        if isinstance(box_id, int) and (box_id == ref or email == ref):
            return box_id, str(box.get("name") or email)
    raise Misconfigured(
        "FREESCOUT_OPS_MAILBOX",
        f"no FreeScout mailbox has the {'id' if isinstance(ref, int) else 'address'} "
        f"{ref}; set FREESCOUT_OPS_MAILBOX to the ops mailbox's email address or numeric id",
    )


async def _field_id(ctx: Context, mailbox_id: int, mailbox_name: str) -> int:
    wanted = FIELD_GITHUB_ISSUE_URL.lower()
    for item in await ctx.fs.mailbox_custom_fields(mailbox_id):
        if str(item.get("name") or "").strip().lower() == wanted and isinstance(item.get("id"), int):
            return int(item["id"])
    raise Misconfigured(
        "FREESCOUT_OPS_MAILBOX",
        f"the ops mailbox {mailbox_name} (id {mailbox_id}) has no custom field named {FIELD_GITHUB_ISSUE_URL}; "
        "create it (Manage → Custom Fields, type single line) or point FREESCOUT_OPS_MAILBOX at the "
        "mailbox that has it",
    )


async def _check_bot(ctx: Context) -> None:
    """Notes need an existing user; a 404 here is the clearest place to say which setting is wrong."""
    try:
        await ctx.fs.get_user(ctx.cfg.bot_user_id)
    except PermanentUpstreamError as exc:
        if exc.status != 404:
            raise
        raise Misconfigured(
            "FREESCOUT_BOT_USER_ID",
            f"FreeScout has no user with id {ctx.cfg.bot_user_id}; set FREESCOUT_BOT_USER_ID to the bot "
            "user's id (Manage → Users, the number in the user's URL)",
        ) from exc


async def _find_ticket(ctx: Context, mailbox_id: int, issue: IssueState) -> Conversation | None:
    """A ticket filed earlier for this issue, by its ``github_issue_url`` (every status, both filters)."""
    base: dict[str, Any] = {"mailboxId": mailbox_id, "state": "published", "sortField": "createdAt"}
    since = _since(issue.created_at)
    if since:
        base["createdSince"] = since
    for narrow in ({"customerEmail": ctx.cfg.customer_email}, {"tag": TAG_FROM_GITHUB}):
        for status in STATUSES:
            found = matching_ticket(
                [c async for c in ctx.fs.list_conversations(**base, **narrow, status=status)], issue.html_url
            )
            if found is not None:
                return found
    return None


def _create_payload(ctx: Context, issue: IssueState, mailbox_id: int, field_id: int) -> dict[str, Any]:
    note = ticket_html(issue, ctx.cfg.repository, ctx.event.label, ctx.event.sender)
    return {
        "type": "email",
        "mailboxId": mailbox_id,
        "subject": subject(issue.title),
        "customer": {"email": ctx.cfg.customer_email},
        "threads": [{"type": ThreadType.NOTE.value, "user": ctx.cfg.bot_user_id, "text": note}],
        "status": "active",
        "imported": True,
        "customFields": [{"id": field_id, "value": issue.html_url}],
    }


async def _create_once(ctx: Context, issue: IssueState, mailbox_id: int, field_id: int) -> tuple[int, bool]:
    """Create the ticket; after a failure (a lost response too) look for it before trying again."""
    payload = _create_payload(ctx, issue, mailbox_id, field_id)
    for attempt in range(WRITE_ATTEMPTS):
        try:
            return await ctx.fs.create_conversation(payload), True
        except UpstreamError as exc:
            if not exc.transient or attempt == WRITE_ATTEMPTS - 1:
                raise
            await _pause(attempt, exc)
            found = await _find_ticket(ctx, mailbox_id, issue)
            if found is not None:
                return found.id, False
    raise AssertionError("unreachable")  # pragma: no cover


async def _comment_once(ctx: Context, number: int, ticket_url: str) -> str:
    """Post the sentinel; after a failure read every comment page again before another try."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            return await _once(lambda: ctx.issues.post_comment(number, ticket_comment(ticket_url)))
        except UpstreamError as exc:
            if not exc.transient or attempt == WRITE_ATTEMPTS - 1:
                raise
            await _pause(attempt, exc)
            for comment in await _read(lambda: ctx.issues.comments(number)):
                if ticket_url_in(comment.body):
                    return comment.html_url
    raise AssertionError("unreachable")  # pragma: no cover


async def file_ticket(ctx: Context) -> None:
    """``customer-reported`` / ``regression``: exactly one ticket per issue, then the sentinel."""
    report = ctx.report
    issue, comments = await _fresh_issue(ctx)
    decision = decide_create(issue, ctx.event.label, comments)
    if decision.action is Action.SKIP:
        return _skip(ctx, decision)
    if not issue.html_url:
        raise Misconfigured("GITHUB_API_URL", "GitHub returned the issue without html_url")
    mailbox_id, mailbox_name = await _ops_mailbox(ctx)
    field_id = await _field_id(ctx, mailbox_id, mailbox_name)
    await _check_bot(ctx)
    tags = ticket_tags(issue.labels)
    existing = await _find_ticket(ctx, mailbox_id, issue)
    report.reason = decision.detail
    tag_text = ", ".join(f"`{t}`" for t in tags)
    if not ctx.cfg.live:
        report.outcome = "would_finish" if existing else "would_create"
        if existing is not None:
            report.links.append(("FreeScout ticket", conversation_url(ctx.cfg.freescout_url, existing.id)))
            report.reason = "an earlier run filed a ticket but did not finish; a live run finishes it"
        else:
            report.writes.append(
                f"create a ticket in mailbox {mailbox_name} (id {mailbox_id}), imported, no email"
            )
        report.writes += [f"set tags {tag_text}", "comment the ticket link on the issue"]
        return
    if existing is not None:
        ticket_id, created = existing.id, False
    else:
        ticket_id, created = await _create_once(ctx, issue, mailbox_id, field_id)
    ticket_url = conversation_url(ctx.cfg.freescout_url, ticket_id)
    report.links.append(("FreeScout ticket", ticket_url))
    report.outcome = "created" if created else "finished"
    if created:
        report.writes.append(f"created ticket {ticket_id} in mailbox {mailbox_name}")
        current: tuple[str, ...] | None = None
    else:
        report.reason = "an earlier run filed this ticket but did not finish; finished it"
        current = (await ctx.fs.get_conversation(ticket_id)).tags
    await ctx.fs.set_tags(ticket_id, merged_tags(current, tags))
    report.writes.append(f"set tags {tag_text}")
    comment_url = await _comment_once(ctx, issue.number, ticket_url)
    report.writes.append("commented the ticket link on the issue")
    if comment_url:
        report.links.append(("Issue comment", comment_url))


async def _linked_ticket(ctx: Context, conversation_id: int) -> Conversation:
    try:
        return await ctx.fs.get_conversation(conversation_id)
    except PermanentUpstreamError as exc:
        if exc.status != 404:
            raise
        raise Misconfigured(
            "FREESCOUT_URL",
            f"the issue links FreeScout ticket {conversation_id}, which FreeScout at FREESCOUT_URL does not "
            "have; check FREESCOUT_URL",
        ) from exc


async def request_confirm(ctx: Context) -> None:
    """``needs-customer-confirm``: one internal note on the linked ticket, however often the run repeats."""
    report = ctx.report
    issue, comments = await _fresh_issue(ctx)
    decision = decide_confirm(issue, ctx.event.label, comments)
    if decision.action is Action.SKIP or decision.conversation_id is None:
        return _skip(ctx, decision)
    ticket_id = decision.conversation_id
    report.links.append(("FreeScout ticket", conversation_url(ctx.cfg.freescout_url, ticket_id)))
    await _check_bot(ctx)
    conv = await _linked_ticket(ctx, ticket_id)
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
    note = confirm_note_html(issue, ctx.cfg.repository, ctx.event.sender)
    for attempt in range(WRITE_ATTEMPTS):
        try:
            await ctx.fs.add_thread(ticket_id, ThreadType.NOTE, note, bot)
            break
        except UpstreamError as exc:
            if not exc.transient or attempt == WRITE_ATTEMPTS - 1:
                raise
            await _pause(attempt, exc)
            if confirm_note_exists(await ctx.fs.get_conversation(ticket_id), url, bot):
                break
    report.outcome = "noted"
    report.writes.append(f"posted an internal note on ticket {ticket_id}")


def read_payload(env: Mapping[str, str]) -> Any:
    path = (env.get("GITHUB_EVENT_PATH") or "").strip()
    if not path:
        raise ConfigError(
            {"GITHUB_EVENT_PATH": "is not set: run inside GitHub Actions or point it at a payload"}
        )
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            {"GITHUB_EVENT_PATH": f"cannot read the event payload ({type(exc).__name__})"}
        ) from exc


async def sync(env: Mapping[str, str], report: Report) -> None:
    """Decide from the event, then act on fresh state; everything the run did ends up in ``report``."""
    routed = route((env.get("GITHUB_EVENT_NAME") or "").strip(), read_payload(env))
    if isinstance(routed, Decision):
        report.reason = routed.detail
        return
    event = routed
    report.label = event.label
    report.issue = issue_ref(repository_of(env, event.repository) or "?", event.issue.number)
    report.issue_url = event.issue.html_url
    cfg = load_actions_config(
        env, need_ticket=needs_ticket_settings(event.label), payload_repository=event.repository
    )
    report.issue = issue_ref(cfg.repository, event.issue.number)
    gh = make_actions_github(cfg.github_token.reveal(), cfg.github_api_url)
    try:
        async with make_client(cfg.freescout_url, cfg.freescout_api_key.reveal(), timeout=10.0) as http:
            ctx = Context(cfg, event, IssueClient(gh, cfg.repository), FreeScoutAPI(http), report)
            with retry.deadline_in(DEADLINE_SECONDS):
                if needs_ticket_settings(event.label):
                    await file_ticket(ctx)
                else:
                    await request_confirm(ctx)
    finally:
        gh.close()


def _redact(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, "***")
    return text


def run(env: Mapping[str, str], out: TextIO) -> int:
    """The one exit path: every outcome, skip and failure is reported the same way."""
    secrets = secret_values(env)
    for value in secrets:
        print(add_mask(value), file=out, flush=True)
    report = Report(live=is_live(env))
    try:
        anyio.run(sync, env, report)
    except ConfigError as exc:
        report.problems.extend(Problem(name, f"{name} {what}") for name, what in exc.problems.items())
    except Misconfigured as exc:
        report.problems.append(exc.problem)
    except UpstreamError as exc:
        report.problems.append(explain(exc))
    except Exception as exc:  # noqa: BLE001 - the outermost edge: report, never dump bodies
        where = "".join(traceback.format_tb(exc.__traceback__))  # code locations only, no values
        print(_redact(f"freescout-sync: unexpected {type(exc).__name__} at\n{where}", secrets), file=out)
        report.problems.append(Problem("", f"unexpected {type(exc).__name__}; see the job log and report it"))
    if report.problems:
        report.outcome = "failed"
    level = "error" if report.live else "warning"
    for problem in report.problems:
        title = f"freescout-sync: {problem.variable}" if problem.variable else "freescout-sync"
        print(_redact(annotation(level, problem.message, title), secrets), file=out)
    print(_redact(log_line(report), secrets), file=out, flush=True)
    summary_path = (env.get("GITHUB_STEP_SUMMARY") or "").strip()
    if summary_path:
        with open(summary_path, "a", encoding="utf-8") as fh:
            fh.write(_redact(summary_markdown(report), secrets))
    return report.exit_code


def main() -> int:
    return run(os.environ, sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
