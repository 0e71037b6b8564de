"""Note commands carried out: ``#github link|relink|unlink`` in an agent's internal note (issue #10, 1).

The I/O shell around the pure ``bridge.commands``. Under the Linker's per-conversation lock (the same one
Direction A takes) it reads fresh state, the conversation with its threads and the target issue with
every page of its comments, lets ``decide_command`` choose, then carries out the steps in their
crash-safe order, looking before each write:

- a link or unlink record comment is posted unless ``links.has_record`` finds it (``bridge.in_doubt``);
- the label and the field are idempotent writes (plain retries);
- the reply note, keyed ``command:THREAD``, is posted unless fresh threads carry that key
  (``bridge.in_doubt``); it is the "done" mark: a command whose reply exists is never run again, so a
  redelivery of an old ``#github link`` cannot undo a later ``#github unlink``;
- the demand comment is refreshed last (``bridge.demand_refresh``), and never fails the command.

Shadow mode (flag off) decides and logs what it would write, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread

from bridge import logs, retry
from bridge.commands import CommandPlan, decide_command, is_command_note, parse_command, target_number
from bridge.demand_refresh import DemandRefresh
from bridge.errors import PermanentUpstreamError
from bridge.freescout_api import FreeScoutAPI, ThreadType
from bridge.github_api import GitHubIssues
from bridge.github_model import IssueComment, IssueView
from bridge.in_doubt import Ledger, Policy, Write, write_once
from bridge.links import has_record, linked_conversations
from bridge.locks import KeyedLocks
from bridge.model import Conversation, Thread
from bridge.outcome import Outcome
from bridge.settings import Settings
from bridge.vocab import command_notice_key, notice_keys_in
from bridge.writes import AddLabel, AddNote, CommandStep, PostRecord, RefreshDemand, SetField

T = TypeVar("T")
log = logs.get_logger()


def has_notice(conv: Conversation, key: str, bot_user_id: int) -> bool:
    """A note by the bot carrying the hidden ``key`` is on the conversation."""
    return any(
        t.type == "note" and t.created_by_id == bot_user_id and key in notice_keys_in(t.body)
        for t in conv.threads
    )


def superseded(conv: Conversation, note: Thread, bot_user_id: int) -> bool:
    """A later command note (a higher thread id: FreeScout's order is by second only) replaces this one."""
    return any(
        t.id > note.id and is_command_note(t, bot_user_id) and parse_command(t.body, "") is not None
        for t in conv.threads
    )


def describe(step: CommandStep) -> str:
    """One word per step for the log line and ``Outcome.writes``."""
    if isinstance(step, PostRecord):
        return f"{step.record.kind}_record:{step.issue_number}"
    if isinstance(step, AddLabel):
        return f"add_label:{step.issue_number}"
    if isinstance(step, SetField):
        return "set_custom_field"
    if isinstance(step, AddNote):
        return "add_note"
    return f"refresh_demand:{step.issue_number}"


@dataclass(frozen=True)
class _Seen:
    """What the shell read from GitHub before deciding: the target issue and the comments of each issue."""

    target: IssueView | None
    comments: dict[int, list[IssueComment]] = field(default_factory=dict)

    def linked_here(self) -> list[int]:
        if self.target is None or self.target.number not in self.comments:
            return []
        target, comments = self.target, self.comments[self.target.number]
        linked = linked_conversations(target.body, comments, issue_created_at=target.created_at)
        return [t.conversation_id for t in linked]


class NoteCommands:
    """One command note, decided on fresh state and carried out once."""

    def __init__(
        self,
        settings: Settings,
        freescout: FreeScoutAPI,
        github: GitHubIssues,
        locks: KeyedLocks,
        ledger: Ledger,
        policies: tuple[Policy, Policy],  # (github, freescout)
        demand: DemandRefresh,
    ) -> None:
        self._settings = settings
        self._fs = freescout
        self._gh = github
        self._locks = locks
        self._ledger = ledger
        self._github_policy, self._freescout_policy = policies
        self._demand = demand

    @property
    def _bot(self) -> int:
        return self._settings.bot_user_id

    async def handle(self, snapshot: Conversation) -> Outcome:
        """The delivery's newest thread is a command note (``criteria.decide_from_payload`` said so)."""
        newest = snapshot.newest_thread
        assert newest is not None
        async with self._locks.hold(snapshot.id):
            fresh = await self._fs.get_conversation(snapshot.id)
            note = next((t for t in fresh.threads if t.id == newest.id), None)
            if note is None or not is_command_note(note, self._bot):
                return Outcome("ignore", "command_note_gone")
            return await self._run(fresh, note)

    async def _run(self, fresh: Conversation, note: Thread) -> Outcome:
        repository = self._settings.github_repository
        command = parse_command(note.body, repository)
        if command is None:
            return Outcome("ignore", "no_command")
        if has_notice(fresh, command_notice_key(note.id), self._bot):
            return Outcome("ignore", "command_done", fresh.github_issue_url)
        if superseded(fresh, note, self._bot):
            log.info("command_superseded", thread_id=note.id)
            return Outcome("ignore", "command_superseded", fresh.github_issue_url)
        seen = await self._read_target(target_number(command, repository))
        plan = decide_command(
            command,
            ticket=fresh,
            thread_id=note.id,
            bot_user_id=self._bot,
            repository=repository,
            target=seen.target,
            linked_here=seen.linked_here(),
        )
        url = seen.target.html_url if seen.target and not plan.refused else fresh.github_issue_url
        if not self._settings.autolink_enabled:
            steps = [describe(s) for s in plan.steps]
            log.info("would_run_command", thread_id=note.id, reason=plan.reason, steps=steps)
            return Outcome("would_command", plan.reason, url)
        if any(isinstance(s, SetField) for s in plan.steps) and fresh.field() is None:
            raise PermanentUpstreamError(
                "freescout",
                "resolve_field",
                "field_missing_in_mailbox",
                hint=f"create the custom field github_issue_url in mailbox {fresh.mailbox_id} "
                "(runbooks/freescout-custom-field.md)",
            )
        outcome = Outcome("command_refused" if plan.refused else "command", plan.reason, url)
        await self._carry_out(plan, fresh, seen, outcome)
        return outcome

    async def _read_target(self, number: int | None) -> _Seen:
        """The issue the command names, with every comment (its link set), fresh from GitHub."""
        if number is None:
            return _Seen(None)
        target = await _thread(self._gh.get_issue_view, number)
        if target is None or target.is_pull_request:
            return _Seen(target)
        # Closed issues too: a closed issue the ticket already waits on is answered "linked", not refused.
        return _Seen(target, {number: await _thread(self._gh.list_issue_comments, number)})

    async def _carry_out(self, plan: CommandPlan, fresh: Conversation, seen: _Seen, outcome: Outcome) -> None:
        for step in plan.steps:
            if isinstance(step, PostRecord):
                sent = await self._post_record(step, seen.comments)
            elif isinstance(step, AddLabel):
                sent = await self._add_label(step, seen)
            elif isinstance(step, SetField):
                sent = await self._set_field(step, fresh)
            elif isinstance(step, AddNote):
                sent = await self._add_note(step, fresh)
            else:
                sent = await self._refresh(step)
            if sent:
                outcome.writes.append(describe(step))

    async def _post_record(self, step: PostRecord, comments: dict[int, list[IssueComment]]) -> bool:
        gh, number = self._gh, step.issue_number
        known = comments.get(number)
        if known is not None and has_record(known, step.record):
            return False

        async def look() -> bool | None:
            return (
                True if has_record(await _thread(_comments_after_writes, gh, number), step.record) else None
            )

        async def send() -> bool:
            await _thread(gh.post_comment, number, step.body)
            return True

        key = ("record", number, step.record)
        write = Write(key, "github", "create_record_comment", look=look, send=send)
        _, sent = await write_once(write, self._ledger, self._github_policy, looked=known is not None)
        return sent

    async def _add_label(self, step: AddLabel, seen: _Seen) -> bool:
        target = seen.target
        if target is not None and target.number == step.issue_number and step.label in target.labels:
            return False
        gh = self._gh
        await retry.call(lambda: _thread(gh.add_label, step.issue_number, step.label))
        return True

    async def _set_field(self, step: SetField, fresh: Conversation) -> bool:
        field = fresh.field()
        assert field is not None  # checked before the first write
        if fresh.github_issue_url == step.value:
            return False
        await self._fs.set_custom_field(step.conversation_id, field.id, step.value)
        return True

    async def _add_note(self, step: AddNote, fresh: Conversation) -> bool:
        if has_notice(fresh, step.key, self._bot):
            return False
        fs, cid, bot = self._fs, step.conversation_id, self._bot

        async def look() -> bool | None:
            return True if has_notice(await fs.get_conversation(cid), step.key, bot) else None

        async def send() -> bool:
            await fs.add_thread(cid, ThreadType.NOTE, step.html, step.user)
            return True

        write = Write(("notice", cid, step.key), "freescout", "add_thread", look=look, send=send)
        _, sent = await write_once(write, self._ledger, self._freescout_policy, looked=True)
        return sent

    async def _refresh(self, step: RefreshDemand) -> bool:
        result = await self._demand.refresh(step.issue_number, trigger="note_command")
        return result in ("created", "edited")


async def _thread(fn: Callable[..., T], *args: Any) -> T:
    """A PyGithub call in a worker thread; a delivery that times out answers now and leaves it running."""
    return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)


def _comments_after_writes(gh: GitHubIssues, number: int) -> list[IssueComment]:
    """The in-doubt look: every comment, once any write of this process still in flight has landed."""
    return gh.list_issue_comments(number, after_writes=True)
