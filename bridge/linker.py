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

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import anyio.to_thread

from bridge import render, retry
from bridge.criteria import (
    Action,
    Decision,
    Rules,
    decide_close,
    decide_from_payload,
    decide_link,
    our_note_exists,
)
from bridge.errors import PermanentUpstreamError, TransientUpstreamError, UpstreamError
from bridge.freescout_api import FreeScoutAPI, ThreadType
from bridge.github_api import GitHubIssues, IssueRef
from bridge.locks import KeyedLocks
from bridge.mailboxes import MailboxDirectory
from bridge.model import Conversation
from bridge.quarantine import Quarantine
from bridge.settings import Settings
from bridge.vocab import closed_marker, issue_number_from_url


@dataclass
class Outcome:
    """What one delivery (or sweep item) decided and did: the summary log line is built from it."""

    decision: str
    reason: str
    issue_url: str = ""
    writes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, decision: Decision, issue_url: str = "") -> Outcome:
        return cls(decision.action.value, decision.reason, issue_url)


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
        self._unsure = Quarantine(settings.config.github_unsure_write_seconds)
        self._rules: Rules | None = None

    @property
    def enabled(self) -> bool:
        return self._settings.autolink_enabled

    async def rules(self) -> Rules:
        if self._mailboxes.needs_lookup():
            await self._mailboxes.load()
        ids = self._mailboxes.configured_ids()
        if self._rules is None or self._rules.mailbox_ids is not ids:  # rebuilt only when the ids change
            self._rules = Rules(self._settings.config, self._settings.bot_user_id, ids)
        return self._rules

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
        return await self.reconcile(snapshot.id, closing=event == "convo.status")

    async def reconcile(self, conversation_id: int, *, closing: bool = False) -> Outcome:
        """Bring one conversation to its linked state, on fresh state, one flight per conversation."""
        async with self._locks.hold(conversation_id):
            fresh = await self._fs.get_conversation(conversation_id)
            rules = await self.rules()
            decision = decide_link(fresh, rules, is_ours=self._ours)
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
            await self._post_note_once(fresh.id, fresh.github_issue_url, outcome)
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
        created_at = _parse_time(fresh.created_at)
        since = created_at - timedelta(days=1) if created_at else None
        draft = render.issue_draft(
            fresh,
            freescout_url=self._settings.freescout_url,
            mailbox_name=self._mailboxes.name(fresh.mailbox_id),
            tag_labels=dict(self._settings.config.tag_labels),
            include_customer_email=self._settings.config.include_customer_email,
        )

        key = ("issue", fresh.id)

        async def attempt() -> tuple[IssueRef, bool]:
            allowed = self._unsure.remaining(key) <= 0
            try:
                found, created = await anyio.to_thread.run_sync(
                    self._gh.find_or_create_issue,
                    fresh.id,
                    since,
                    draft.title,
                    draft.body,
                    draft.labels,
                    allowed,
                    abandon_on_cancel=True,  # a timed-out delivery answers now; the thread keeps the slot
                )
            except UpstreamError as exc:
                if exc.ambiguous:
                    self._unsure.hold(key)
                raise
            if found is None:
                raise _unsure_error("create_issue", self._unsure.remaining(key))
            self._unsure.release(key)
            return found, created

        return await retry.call(attempt)

    async def _link(self, fresh: Conversation, decision: Decision) -> Outcome:
        field_def = fresh.field()
        assert field_def is not None  # decide_link returned MISCONFIGURED otherwise
        issue, created = await self._find_or_create(fresh)
        outcome = Outcome("linked", decision.reason, issue.html_url, ["create_issue"] if created else [])
        if not our_note_exists(fresh, issue.html_url, self._settings.bot_user_id):
            await self._post_note_once(fresh.id, issue.html_url, outcome)
        # The field goes last: until it is set, the sweep lists the conversation, so a crash at any
        # point before here is finished by a redelivery or by the sweep alike.
        await self._fs.set_custom_field(fresh.id, field_def.id, issue.html_url)
        outcome.writes.append("set_custom_field")
        return outcome

    async def _post_note_once(self, conversation_id: int, issue_url: str, outcome: Outcome) -> None:
        """Post the note; after a failed attempt, re-read the threads before trying again.

        A post that failed ambiguously (timeout, dropped connection, 5xx) may still land, so for a while
        the note is only looked for, like a GitHub create whose outcome is unknown.
        """
        number = issue_number_from_url(issue_url, self._settings.github_repository)
        note = render.link_note(issue_url, f"{self._settings.github_repository}#{number}")
        key = ("note", conversation_id)
        tried = False

        async def attempt() -> None:
            nonlocal tried
            if tried or self._unsure.remaining(key) > 0:
                again = await self._fs.get_conversation(conversation_id)
                if our_note_exists(again, issue_url, self._settings.bot_user_id):
                    self._unsure.release(key)
                    return
                if self._unsure.remaining(key) > 0:
                    raise _unsure_error("add_thread", self._unsure.remaining(key), api="freescout")
            tried = True
            try:
                await self._fs.add_thread(conversation_id, ThreadType.NOTE, note, self._settings.bot_user_id)
            except UpstreamError as exc:
                if exc.ambiguous:
                    self._unsure.hold(key)
                raise
            outcome.writes.append("add_note")

        await retry.call(attempt)

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

        key = ("comment", marker)

        async def attempt() -> None:
            allowed = self._unsure.remaining(key) <= 0
            try:
                posted = await anyio.to_thread.run_sync(
                    self._gh.comment_once, number, marker, body, allowed, abandon_on_cancel=True
                )
            except UpstreamError as exc:
                if exc.ambiguous:
                    self._unsure.hold(key)
                raise
            if posted is None:
                raise _unsure_error("create_comment", self._unsure.remaining(key))
            self._unsure.release(key)
            if posted:
                outcome.writes.append("create_comment")
            else:
                outcome.reason = "already_commented"

        await retry.call(attempt)
        return outcome


def _unsure_error(operation: str, wait: float, api: str = "github") -> TransientUpstreamError:
    return TransientUpstreamError(
        api, operation, "earlier_write_outcome_unknown", retry_after=max(1.0, round(wait))
    )


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
