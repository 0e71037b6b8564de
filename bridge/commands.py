"""Note commands (FreeScout → bridge): ``#github link REF``, ``#github relink REF``, ``#github unlink``.

Pure: ``parse_command`` reads a note's HTML; ``decide_command`` turns the command, the ticket's current
``github_issue_url`` and the fetched target issue into a refusal or the writes, in crash-safe order:
unlink record on the old issue → link record on the new one (+ ``freescout-linked``) → field →
confirmation note → demand refresh. The field goes last but one, so a crash leaves the ticket pointing
at the old state and a rerun of the same note finishes the job; every step can be checked before it is
redone (the records by ``links.has_record``, the note by its ``command:THREAD`` key).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from bridge import command_replies as replies
from bridge.github_model import IssueView
from bridge.model import Conversation, Thread
from bridge.return_path_render import link_record_body
from bridge.text import html_to_text
from bridge.vocab import (
    COMMAND_KEYWORD,
    LABEL_LINKED,
    UNLINKED,
    LinkRecord,
    command_notice_key,
    issue_number_from_url,
)
from bridge.writes import AddLabel, AddNote, CommandStep, PostRecord, RefreshDemand, SetField


class Verb(StrEnum):
    LINK = "link"
    RELINK = "relink"
    UNLINK = "unlink"


@dataclass(frozen=True)
class IssueRef:
    repository: str  # owner/repo as written
    number: int
    is_pull_request: bool = False  # a …/pull/N URL

    @property
    def ref(self) -> str:
        return f"{self.repository}#{self.number}"


@dataclass(frozen=True)
class Command:
    verb: Verb
    ref: IssueRef | None  # None for unlink


@dataclass(frozen=True)
class CommandError:
    """A ``#github`` line the bridge could not read; ``reason`` picks the reply."""

    reason: str  # "unknown_verb" | "missing_ref" | "bad_ref"
    detail: str


@dataclass(frozen=True)
class CommandPlan:
    """What the command leads to; ``refused`` plans hold only the reply note."""

    reason: str
    refused: bool
    steps: tuple[CommandStep, ...]


_LINE = re.compile(re.escape(COMMAND_KEYWORD) + r"(?:\s+(\S+))?(?:\s+(\S+))?", flags=re.IGNORECASE)
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
_REPO = r"[A-Za-z0-9._-]{1,100}"
_SHORT = re.compile(rf"\A(?:({_NAME})/({_REPO}))?#?(\d{{1,10}})\Z")
_URL = re.compile(rf"\Ahttps?://[^/\s]+/({_NAME})/({_REPO})/(issues|pull)/(\d{{1,10}})/?(?:[?#]\S*)?\Z", re.I)


def parse_ref(value: str, repository: str) -> IssueRef | None:
    """``owner/repo#N``, ``#N``/``N`` (in ``repository``) or ``https://HOST/owner/repo/issues/N``."""
    value = value.strip().strip("<>")
    url = _URL.match(value)
    if url:
        owner, repo, kind, number = url.groups()
        return IssueRef(f"{owner}/{repo}", int(number), kind.lower() == "pull")
    short = _SHORT.match(value)
    if short is None or (short.group(1) is None and "/" in value):
        return None
    if short.group(1) is None:
        return IssueRef(repository, int(short.group(3)))
    if "#" not in value:
        return None
    return IssueRef(f"{short.group(1)}/{short.group(2)}", int(short.group(3)))


def _command_line(note_html: str) -> str | None:
    for line in html_to_text(note_html).split("\n"):
        stripped = line.strip()
        head = stripped[: len(COMMAND_KEYWORD) + 1]
        if head.lower() == COMMAND_KEYWORD or head.lower().startswith(COMMAND_KEYWORD + " "):
            return stripped
    return None


def parse_command(note_html: str, repository: str) -> Command | CommandError | None:
    """The first ``#github`` line of the note, or ``None`` when the note holds none."""
    line = _command_line(note_html)
    if line is None:
        return None
    match = _LINE.match(line)
    verb_word = (match.group(1) if match else None) or ""
    ref_word = match.group(2) if match else None
    try:
        verb = Verb(verb_word.lower())
    except ValueError:
        return CommandError("unknown_verb", verb_word or line)
    if verb is Verb.UNLINK:
        return Command(verb, None)
    if not ref_word:
        return CommandError("missing_ref", verb.value)
    ref = parse_ref(ref_word, repository)
    return Command(verb, ref) if ref is not None else CommandError("bad_ref", ref_word)


def is_command_note(thread: Thread, bot_user_id: int) -> bool:
    """Only an agent's internal note can command: never the bridge's own notes, never customer text."""
    return thread.type == "note" and thread.created_by_type == "user" and thread.created_by_id != bot_user_id


def target_number(command: Command | CommandError, repository: str) -> int | None:
    """The issue the shell must fetch (with its comments) before deciding; ``None``: no fetch needed."""
    if isinstance(command, CommandError) or command.ref is None or command.ref.is_pull_request:
        return None
    return command.ref.number if command.ref.repository.lower() == repository.lower() else None


@dataclass(frozen=True)
class _Context:
    ticket: Conversation
    thread_id: int
    user: int
    repository: str

    def reply(self, reason: str, **values: str) -> AddNote:
        key = command_notice_key(self.thread_id)
        return AddNote(self.ticket.id, key, replies.reply_html(key, reason, **values), self.user)

    def refuse(self, reason: str, **values: str) -> CommandPlan:
        return CommandPlan(reason, True, (self.reply(reason, **values),))

    def record(self, kind: str, issue_number: int) -> PostRecord:
        record = LinkRecord(kind, self.ticket.id, self.thread_id)
        return PostRecord(issue_number, record, link_record_body(record, self.ticket.number))


def _target_refusal(ctx: _Context, ref: IssueRef, target: IssueView | None, here: bool) -> CommandPlan | None:
    """Why the target cannot be linked; a closed issue the ticket already waits on is no reason."""
    if ref.repository.lower() != ctx.repository.lower():
        return ctx.refuse("other_repository", ref=ref.ref, repository=ctx.repository)
    if ref.is_pull_request or (target is not None and target.is_pull_request):
        return ctx.refuse("pull_request", ref=ref.ref)
    if target is None or target.number != ref.number:
        return ctx.refuse("not_found", ref=ref.ref)
    if target.is_closed and not here:
        return ctx.refuse("closed", ref=target.ref, url=target.html_url)
    return None


def _already_here(ctx: _Context, target: IssueView | None, linked_here: Collection[int]) -> bool:
    old = issue_number_from_url(ctx.ticket.github_issue_url, ctx.repository)
    return target is not None and old == target.number and ctx.ticket.id in linked_here


def _link(ctx: _Context, verb: Verb, target: IssueView, linked_here: Collection[int]) -> CommandPlan:
    field = ctx.ticket.github_issue_url
    old = issue_number_from_url(field, ctx.repository)
    if _already_here(ctx, target, linked_here):
        return CommandPlan(
            "already_linked", False, (ctx.reply("linked", ref=target.ref, url=target.html_url),)
        )
    elsewhere = field and field.lower() != UNLINKED and old != target.number
    if elsewhere and verb is Verb.LINK:
        return ctx.refuse("linked_elsewhere", old=field, ref=target.ref)
    steps: list[CommandStep] = []
    if elsewhere and old is not None:
        steps.append(ctx.record("unlink", old))
    steps += [ctx.record("link", target.number), AddLabel(target.number, LABEL_LINKED)]
    steps.append(SetField(ctx.ticket.id, target.html_url))
    reason = "relinked" if elsewhere else "linked"
    steps.append(ctx.reply(reason, ref=target.ref, url=target.html_url, old=field))
    steps.append(RefreshDemand(target.number))
    if elsewhere and old is not None:
        steps.append(RefreshDemand(old))
    return CommandPlan(reason, False, tuple(steps))


def _unlink(ctx: _Context) -> CommandPlan:
    field = ctx.ticket.github_issue_url
    if not field:
        return CommandPlan("not_linked", False, (ctx.reply("not_linked"),))
    if field.lower() == UNLINKED:
        return CommandPlan("already_unlinked", False, (ctx.reply("unlinked", old=""),))
    old = issue_number_from_url(field, ctx.repository)
    steps: list[CommandStep] = [ctx.record("unlink", old)] if old is not None else []
    steps += [SetField(ctx.ticket.id, UNLINKED), ctx.reply("unlinked", old=field)]
    if old is not None:
        steps.append(RefreshDemand(old))
    return CommandPlan("unlinked", False, tuple(steps))


def decide_command(
    command: Command | CommandError,
    *,
    ticket: Conversation,
    thread_id: int,
    bot_user_id: int,
    repository: str,
    target: IssueView | None = None,
    linked_here: Collection[int] = (),
) -> CommandPlan:
    """A refusal (one reply note) or the writes in crash-safe order.

    ``target`` is the issue ``target_number`` named, fetched fresh (``None``: GitHub answered 404);
    ``linked_here`` the conversation ids of its link set (``links.linked_conversations``).
    """
    ctx = _Context(ticket, thread_id, bot_user_id, repository)
    if isinstance(command, CommandError):
        return ctx.refuse(command.reason, detail=command.detail)
    if command.verb is Verb.UNLINK or command.ref is None:
        return _unlink(ctx)
    refusal = _target_refusal(ctx, command.ref, target, _already_here(ctx, target, linked_here))
    if refusal is not None or target is None:
        return refusal or ctx.refuse("not_found", ref=command.ref.ref)
    return _link(ctx, command.verb, target, linked_here)
