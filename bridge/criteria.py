"""Pure decisions: which deliveries we act on, and what we do. No I/O here.

Every rule returns a ``Decision`` with a reason that doubles as the log key and the metric label.
``decide_from_payload`` runs first and settles what the webhook body alone can settle, with zero upstream
calls; everything else is decided on fresh state read from the FreeScout API (the payload can be an
old snapshot, and it never carries tags).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bridge.commands import is_command_note, parse_command
from bridge.cutoff import REASON as CUTOFF_REASON
from bridge.cutoff import held_back
from bridge.model import Conversation
from bridge.settings import BridgeConfig
from bridge.text import html_to_text
from bridge.vocab import TAG_FROM_GITHUB, UNLINKED, WEBHOOK_EVENTS


class Action(StrEnum):
    IGNORE = "ignore"  # answered 2xx, nothing to do
    FETCH = "fetch"  # the payload cannot settle it: read fresh state
    LINK = "link"  # open (or find) the issue, write the field, post the note
    COMPLETE_LINK = "complete_link"  # the field is set but our note is missing: post it
    COMMENT_CLOSED = "comment_closed"  # comment once on the linked issue for this closure
    MISCONFIGURED = "misconfigured"  # would link, but an operator must fix something first
    COMMAND = "command"  # an agent's note holds a ``#github`` command: ``bridge.note_commands``
    HOLD = "held_back"  # would link, but it was created before the cut-off (bridge/cutoff.py)


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str


#: Events whose body is a Conversation and that can change whether it should be linked.
CONVERSATION_EVENTS = frozenset(WEBHOOK_EVENTS)


@dataclass(frozen=True)
class Rules:
    """The criteria in force: config plus mailbox ids resolved from emails (``None`` means every mailbox)."""

    config: BridgeConfig
    bot_user_id: int
    mailbox_ids: frozenset[int] | None

    def mailbox_allowed(self, mailbox_id: int) -> bool:
        return self.mailbox_ids is None or mailbox_id in self.mailbox_ids


def is_own_write(conv: Conversation, bot_user_id: int) -> bool:
    """The newest thread was written by the bridge's bot user: an echo of our own API write."""
    newest = conv.newest_thread
    return newest is not None and newest.created_by_type == "user" and newest.created_by_id == bot_user_id


def is_unlinked(conv: Conversation) -> bool:
    """An agent unlinked the ticket (``#github unlink``): not linked, and never auto-linked again by tags."""
    return conv.github_issue_url.lower() == UNLINKED


def holds_command(conv: Conversation, bot_user_id: int) -> bool:
    """The newest thread is an agent's internal note with a ``#github`` line (payload only, no I/O)."""
    newest = conv.newest_thread
    return (
        newest is not None
        and is_command_note(newest, bot_user_id)
        and parse_command(newest.body, "") is not None
    )


def decide_from_payload(event: str, conv: Conversation, rules: Rules) -> Decision:
    """Settle what the webhook body alone can settle; otherwise ``FETCH`` (or ``COMMAND`` for a note command,
    whatever the ticket's tags or link)."""
    if event not in CONVERSATION_EVENTS:
        return Decision(Action.IGNORE, "unsupported_event")
    if is_own_write(conv, rules.bot_user_id):
        return Decision(Action.IGNORE, "own_write_echo")
    if conv.state == "deleted":
        return Decision(Action.IGNORE, "deleted")
    if conv.status == "spam":
        return Decision(Action.IGNORE, "spam")
    if not rules.mailbox_allowed(conv.mailbox_id):
        return Decision(Action.IGNORE, "mailbox_not_configured")
    if event == "convo.note.created" and holds_command(conv, rules.bot_user_id):
        return Decision(Action.COMMAND, "note_command")
    if is_unlinked(conv):
        return Decision(Action.IGNORE, "unlinked")
    if conv.github_issue_url:
        if event == "convo.status" and conv.status == "closed":
            return Decision(Action.FETCH, "closed_with_link")
        if event == "convo.status":  # reopened or set pending: the issue's demand count may change
            return Decision(Action.FETCH, "status_with_link")
        return Decision(Action.IGNORE, "already_linked")
    return Decision(Action.FETCH, "needs_fresh_state")


def has_trigger(conv: Conversation, config: BridgeConfig) -> str | None:
    """The trigger that matches: a configured tag, or a keyword when the opt-in scan is on."""
    tags = set(conv.tags or ())
    for tag in config.tags:
        if tag in tags:
            return f"tag:{tag}"
    if config.keyword_scan.enabled and config.keyword_scan.keywords:
        first = conv.first_customer_thread
        haystack = " ".join([conv.subject, html_to_text(first.body) if first else ""]).lower()
        for word in config.keyword_scan.keywords:
            if re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", haystack):
                return f"keyword:{word}"
    return None


def our_note_exists(conv: Conversation, issue_url: str, bot_user_id: int) -> bool:
    """An internal note by the bot that names ``issue_url`` is already on the conversation."""
    return any(
        t.type == "note" and t.created_by_id == bot_user_id and issue_url in t.body for t in conv.threads
    )


def decide_link(
    conv: Conversation,
    rules: Rules,
    is_ours: Callable[[str], bool] = lambda _: True,
    cutoff: datetime | None = None,
) -> Decision:
    """Decide on fresh state (read with ``embed=threads,tags``) whether to link this conversation.

    ``cutoff``: a conversation created before it that would be linked is held back instead."""
    if conv.state != "published":
        return Decision(Action.IGNORE, "not_published" if conv.state != "deleted" else "deleted")
    if conv.status == "spam":
        return Decision(Action.IGNORE, "spam")
    if not rules.mailbox_allowed(conv.mailbox_id):
        return Decision(Action.IGNORE, "mailbox_not_configured")
    if TAG_FROM_GITHUB in (conv.tags or ()):
        return Decision(Action.IGNORE, "from_github")
    if is_unlinked(conv):
        return Decision(Action.IGNORE, "unlinked")
    url = conv.github_issue_url
    if url:
        if is_ours(url) and not our_note_exists(conv, url, rules.bot_user_id):
            return Decision(Action.COMPLETE_LINK, "note_missing")
        return Decision(Action.IGNORE, "already_linked")
    trigger = has_trigger(conv, rules.config)
    if trigger is None:
        return Decision(Action.IGNORE, "no_trigger_tag")
    if held_back(conv.created_at, cutoff):
        return Decision(Action.HOLD, CUTOFF_REASON)
    if conv.field() is None:
        return Decision(Action.MISCONFIGURED, "field_missing_in_mailbox")
    return Decision(Action.LINK, trigger)


def decide_close(conv: Conversation) -> Decision:
    """On fresh state after ``convo.status``: comment on the linked issue only while it is still closed."""
    if conv.status != "closed":
        return Decision(Action.IGNORE, "no_longer_closed")
    if not conv.github_issue_url or is_unlinked(conv):
        return Decision(Action.IGNORE, "not_linked")
    if not conv.closed_at:
        return Decision(Action.IGNORE, "closed_without_timestamp")
    return Decision(Action.COMMENT_CLOSED, "closed")
