"""Demand, kept current: recount the tickets waiting on an issue and edit its one demand comment.

The I/O shell around ``bridge.demand``. A refresh reads fresh state (the issue, every page of its
comments, each linked ticket), then creates the bridge-owned demand comment once (``bridge.in_doubt``,
key ``("demand", issue)``) or edits it in place with a PATCH, never the human-edited issue body, and adds
the demand label once enough tickets wait. One refresh per issue at a time in this process (a lock per
issue), so two tickets linking to one issue together still leave one comment.

A refresh is the last step of whatever triggered it and never fails that work: when the delivery's
deadline is near it is skipped, and any upstream failure is logged; the next link, unlink, close or
reopen of a linked ticket refreshes it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread

from bridge import logs, retry
from bridge.demand import (
    count_demand,
    demand_comment_in,
    demand_comment_wanted,
    demand_label_wanted,
    render_demand,
)
from bridge.errors import PermanentUpstreamError, UpstreamError
from bridge.freescout_api import FreeScoutAPI
from bridge.github_api import GitHubIssues
from bridge.github_model import IssueComment
from bridge.in_doubt import Ledger, Policy, Write, write_once
from bridge.links import linked_conversations
from bridge.locks import KeyedLocks
from bridge.model import Conversation
from bridge.settings import Settings

T = TypeVar("T")
log = logs.get_logger()

#: Below this many seconds left in the delivery's budget a refresh is skipped (it needs 3+ calls).
MIN_SECONDS = 3.0
#: Linked tickets read at once.
CONCURRENCY = 8


class DemandRefresh:
    """``refresh(issue_number)``: the demand comment and label brought up to date, or a logged skip."""

    def __init__(
        self,
        settings: Settings,
        freescout: FreeScoutAPI,
        github: GitHubIssues,
        ledger: Ledger,
        policy: Policy,
        locks: KeyedLocks,
    ) -> None:
        self._settings = settings
        self._fs = freescout
        self._gh = github
        self._ledger = ledger
        self._policy = policy
        self._locks = locks

    async def refresh(self, issue_number: int, *, trigger: str) -> str:
        """What happened: ``created`` / ``edited`` / ``unchanged`` / ``would_write`` / ``skipped:REASON``."""
        left = retry.remaining()
        if left is not None and left < MIN_SECONDS:
            return _skipped(issue_number, trigger, "deadline_near")
        try:
            async with asyncio.timeout(left), self._locks.hold(("demand", issue_number)):
                result = await self._refresh(issue_number)
        except TimeoutError:
            return _skipped(issue_number, trigger, "deadline_near")
        except UpstreamError as exc:
            return _skipped(issue_number, trigger, f"{exc.api}:{exc.reason}")
        log.info("demand_refresh", issue=issue_number, trigger=trigger, result=result)
        return result

    async def _refresh(self, number: int) -> str:
        gh = self._gh
        issue = await _thread(gh.get_issue_view, number)
        if issue is None or issue.is_pull_request:
            return "skipped:no_such_issue"
        comments = await _thread(gh.list_issue_comments, number)
        linked = linked_conversations(issue.body, comments, issue_created_at=issue.created_at)
        tickets = await self._tickets([t.conversation_id for t in linked])
        demand = count_demand(tickets, issue)
        config = self._settings.config
        body = render_demand(demand, include_customer_email=config.include_customer_email)
        # A stranger's comment that copies the marker is not ours to edit (GitHub would refuse the PATCH).
        ours = [c for c in comments if c.from_team or c.author_type == "Bot"]
        plan = demand_comment_wanted(ours, body, linked=len(linked))
        label = config.return_path.demand_label
        add_label = demand_label_wanted(demand, config.return_path.demand_label_threshold) and (
            label.lower() not in (name.lower() for name in issue.labels)
        )
        if not self._settings.autolink_enabled:
            if plan is not None or add_label:
                log.info("would_refresh_demand", issue=number, comment=plan is not None, label=add_label)
                return "would_write"
            return "unchanged"
        result = "unchanged"
        if plan is not None and plan.comment_id is None:
            result = await self._create(number, plan.body)
        elif plan is not None and plan.comment_id is not None:
            comment_id = plan.comment_id
            await retry.call(lambda: _thread(gh.edit_comment, comment_id, plan.body))
            result = "edited"
        if add_label:
            await retry.call(lambda: _thread(gh.add_label, number, label))
        return result

    async def _create(self, number: int, body: str) -> str:
        gh = self._gh

        async def look() -> IssueComment | None:
            return demand_comment_in(await _thread(_comments_after_writes, gh, number))

        async def send() -> IssueComment:
            return await _thread(gh.post_comment, number, body)

        write = Write(("demand", number), "github", "create_demand_comment", look=look, send=send)
        _, sent = await write_once(write, self._ledger, self._policy, looked=True)
        return "created" if sent else "unchanged"

    async def _tickets(self, ids: list[int]) -> list[Conversation]:
        """Each linked ticket, fresh; one deleted for good is left out (it no longer waits)."""
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(cid: int) -> Conversation | None:
            async with gate:
                try:
                    return await self._fs.get_conversation(cid)
                except PermanentUpstreamError as exc:
                    if exc.status == 404:
                        return None
                    raise

        found = await asyncio.gather(*(one(cid) for cid in ids))
        return [t for t in found if t is not None]


def _skipped(issue_number: int, trigger: str, reason: str) -> str:
    log.warning("demand_refresh_skipped", issue=issue_number, trigger=trigger, reason=reason)
    return f"skipped:{reason}"


async def _thread(fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)


def _comments_after_writes(gh: GitHubIssues, number: int) -> list[IssueComment]:
    """The in-doubt look: every comment, once any write of this process still in flight has landed."""
    return gh.list_issue_comments(number, after_writes=True)
