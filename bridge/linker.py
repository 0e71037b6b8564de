"""Direction A: from a FreeScout conversation to exactly one linked GitHub issue, and one comment per close.

The order of writes is chosen so that a crash between any two of them is finished by the next delivery,
redelivery or sweep, and never duplicated:

1. look for an issue carrying this conversation's marker; create one only if none exists;
2. post the internal note, unless fresh state shows it is already there;
3. write the issue URL into ``github_issue_url`` (idempotent PUT), last.

A failure after (1) leaves an issue the next attempt finds by its marker; after (2) a note the next
attempt sees in fresh state. Until (3) the field is empty, so the sweep, which lists unlinked
conversations, finishes any of them. The closing comment is keyed by a marker per closure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import anyio.to_thread

from bridge import render
from bridge.catch_up import ReturnPath
from bridge.criteria import (
    Action,
    Decision,
    Rules,
    decide_close,
    decide_from_payload,
    decide_link,
    our_note_exists,
)
from bridge.demand_refresh import DemandRefresh
from bridge.errors import PermanentUpstreamError
from bridge.freescout_api import FreeScoutAPI, ThreadType
from bridge.github_api import GitHubIssues, IssueRef
from bridge.in_doubt import Ledger, Policy, Write, write_once
from bridge.locks import KeyedLocks
from bridge.mailboxes import MailboxDirectory
from bridge.model import Conversation
from bridge.note_commands import NoteCommands
from bridge.outcome import Outcome as Outcome  # re-exported: the app and the CLI import it from here
from bridge.settings import Settings
from bridge.vocab import closed_marker, issue_number_from_url

T = TypeVar("T")


class Linker:
    def __init__(
        self,
        settings: Settings,
        freescout: FreeScoutAPI,
        github: GitHubIssues,
        mailboxes: MailboxDirectory,
        locks: KeyedLocks | None = None,
    ) -> None:
        self._settings = settings
        self._fs = freescout
        self._gh = github
        self._mailboxes = mailboxes
        self._locks = locks or KeyedLocks()
        self._in_doubt = Ledger()
        self._github_policy = Policy(settings.config.in_doubt_github_seconds)
        self._freescout_policy = Policy(settings.config.in_doubt_freescout_seconds)
        self._demand = DemandRefresh(
            settings, freescout, github, self._in_doubt, self._github_policy, self._locks
        )
        self._commands = NoteCommands(
            settings,
            freescout,
            github,
            self._locks,
            self._in_doubt,
            (self._github_policy, self._freescout_policy),
            self._demand,
        )
        #: GitHub → FreeScout under the same locks and ledger: one writer per conversation in the process.
        self.return_path = ReturnPath(settings, freescout, github, self._locks, self._in_doubt)

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def enabled(self) -> bool:
        return self._settings.autolink_enabled

    async def rules(self) -> Rules:
        if self._mailboxes.needs_lookup():
            await self._mailboxes.load()
        return Rules(self._settings.config, self._settings.bot_user_id, self._mailboxes.configured_ids())

    async def refresh_demand(self, issue_number: int, *, trigger: str) -> str:
        """Recount the issue's demand comment and label (``bridge.demand_refresh``); never raises."""
        return await self._demand.refresh(issue_number, trigger=trigger)

    def _ours(self, url: str) -> bool:
        return issue_number_from_url(url, self._settings.github_repository) is not None

    async def decide_from_payload(self, event: str, snapshot: Conversation) -> Decision:
        """What the webhook body alone settles (no upstream call once the mailbox list is cached)."""
        return decide_from_payload(event, snapshot, await self.rules())

    async def handle(self, event: str, snapshot: Conversation, first: Decision | None = None) -> Outcome:
        """A webhook delivery: settle it from the payload if possible, else on fresh state.

        ``first`` is the payload decision when the caller already made it (the app's hot path does).
        """
        first = first or await self.decide_from_payload(event, snapshot)
        if first.action is Action.IGNORE:
            return Outcome.of(first)
        if first.action is Action.COMMAND:
            return await self._commands.handle(snapshot)
        return await self.reconcile(snapshot.id, closing=event == "convo.status")

    async def reconcile(
        self, conversation_id: int, *, closing: bool = False, honour_cutoff: bool = True
    ) -> Outcome:
        """Bring one conversation to its linked state, on fresh state, one flight per conversation.

        ``closing`` (a ``convo.status`` delivery): also comment a close on the issue, and recount the
        issue's demand, since a linked ticket closed or reopened. ``honour_cutoff=False`` is the operator
        asking by name (``freescout-bridge sync ID``): the link cut-off does not hold it back.
        """
        outcome, number = await self._reconcile(conversation_id, closing=closing, honour_cutoff=honour_cutoff)
        if closing and number is not None:
            await self._demand.refresh(number, trigger="ticket_status")
        return outcome

    async def _reconcile(
        self, conversation_id: int, *, closing: bool, honour_cutoff: bool = True
    ) -> tuple[Outcome, int | None]:
        async with self._locks.hold(conversation_id):
            fresh = await self._fs.get_conversation(conversation_id)
            number = issue_number_from_url(fresh.github_issue_url, self._settings.github_repository)
            outcome = await self._decide_and_act(fresh, closing=closing, honour_cutoff=honour_cutoff)
            return outcome, number

    async def _decide_and_act(
        self, fresh: Conversation, *, closing: bool, honour_cutoff: bool = True
    ) -> Outcome:
        rules = await self.rules()
        cutoff = self._settings.config.cutoff(datetime.now(UTC)) if honour_cutoff else None
        decision = decide_link(fresh, rules, is_ours=self._ours, cutoff=cutoff)
        outcome = await self._act(fresh, decision)
        if closing:
            close = decide_close(fresh)
            if close.action is Action.COMMENT_CLOSED:
                closed = await self._comment_closed(fresh, close)
                closed.writes[:0] = outcome.writes
                return closed
            if outcome.decision == Action.IGNORE.value and fresh.github_issue_url:
                return Outcome.of(close, fresh.github_issue_url)
        return outcome

    async def _act(self, fresh: Conversation, decision: Decision) -> Outcome:
        if decision.action is Action.LINK:
            if not self.enabled:
                return Outcome("would_link", decision.reason)
            return await self._link(fresh, decision)
        if decision.action is Action.COMPLETE_LINK:
            if not self.enabled:
                return Outcome("would_complete_link", decision.reason, fresh.github_issue_url)
            outcome = Outcome.of(decision, fresh.github_issue_url)
            await self._post_note_once(fresh, fresh.github_issue_url, outcome)
            return outcome
        if decision.action is Action.MISCONFIGURED:
            if not self.enabled:
                return Outcome("would_fail", decision.reason)
            raise PermanentUpstreamError(
                "freescout",
                "resolve_field",
                decision.reason,
                hint=f"create the custom field github_issue_url in mailbox {fresh.mailbox_id} "
                "(runbooks/freescout-custom-field.md)",
            )
        return Outcome.of(decision, fresh.github_issue_url)

    async def _find_or_create(self, fresh: Conversation) -> tuple[IssueRef, bool]:
        """The conversation's issue, found by its marker or created once (``bridge.in_doubt``)."""
        created_at = _parse_time(fresh.created_at)
        since = created_at - timedelta(days=1) if created_at else None
        draft = render.issue_draft(
            fresh,
            freescout_url=self._settings.freescout_url,
            mailbox_name=self._mailboxes.name(fresh.mailbox_id),
            tag_labels=dict(self._settings.config.tag_labels),
            include_customer_email=self._settings.config.include_customer_email,
        )
        gh = self._gh
        write = Write(
            ("issue", fresh.id),
            "github",
            "create_issue",
            look=lambda: _thread(gh.find_linked_issue, fresh.id, since),
            send=lambda: _thread(gh.create_issue, draft.title, draft.body, draft.labels),
        )
        return await write_once(write, self._in_doubt, self._github_policy)

    async def _link(self, fresh: Conversation, decision: Decision) -> Outcome:
        field_def = fresh.field()
        assert field_def is not None  # decide_link returned MISCONFIGURED otherwise
        issue, created = await self._find_or_create(fresh)
        outcome = Outcome("linked", decision.reason, issue.html_url, ["create_issue"] if created else [])
        await self._post_note_once(fresh, issue.html_url, outcome)
        # The field goes last: until it is set, the sweep lists the conversation, so a crash at any
        # point before here is finished by a redelivery or by the sweep alike.
        await self._fs.set_custom_field(fresh.id, field_def.id, issue.html_url)
        outcome.writes.append("set_custom_field")
        if not created:  # an issue that already existed may wait on tickets linked by note commands too
            await self._demand.refresh(issue.number, trigger="direction_a_link")
        return outcome

    async def _post_note_once(self, fresh: Conversation, issue_url: str, outcome: Outcome) -> None:
        """The link note, once: ``fresh`` was just read, so the first look costs no call."""
        bot = self._settings.bot_user_id
        if our_note_exists(fresh, issue_url, bot):
            return
        number = issue_number_from_url(issue_url, self._settings.github_repository)
        note = render.link_note(issue_url, f"{self._settings.github_repository}#{number}")
        fs, cid = self._fs, fresh.id

        async def look() -> bool | None:
            return True if our_note_exists(await fs.get_conversation(cid), issue_url, bot) else None

        async def send() -> bool:
            await fs.add_thread(cid, ThreadType.NOTE, note, bot)
            return True

        write = Write(("note", cid), "freescout", "add_thread", look=look, send=send)
        _, sent = await write_once(write, self._in_doubt, self._freescout_policy, looked=True)
        if sent:
            outcome.writes.append("add_note")

    async def _comment_closed(self, fresh: Conversation, decision: Decision) -> Outcome:
        url = fresh.github_issue_url
        number = issue_number_from_url(url, self._settings.github_repository)
        if number is None:
            return Outcome("ignore", "linked_elsewhere", url)
        if not self.enabled:
            return Outcome("would_comment_closed", decision.reason, url)
        marker = closed_marker(fresh.id, fresh.closure_key)
        body = render.closed_comment(fresh, self._settings.freescout_url)
        outcome = Outcome.of(decision, url)
        gh = self._gh

        async def look() -> bool | None:
            return True if await _thread(gh.has_comment_with, number, marker) else None

        async def send() -> bool:
            await _thread(gh.create_comment, number, body)
            return True

        write = Write(("comment", marker), "github", "create_comment", look=look, send=send)
        _, sent = await write_once(write, self._in_doubt, self._github_policy)
        if sent:
            outcome.writes.append("create_comment")
        else:
            outcome.reason = "already_commented"
        return outcome


async def _thread(fn: Callable[..., T], *args: Any) -> T:
    """A PyGithub call in a worker thread; a delivery that times out answers now and leaves it running."""
    return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
