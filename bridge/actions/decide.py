"""Direction B's pure core: which label means what, and the loop guards. No I/O anywhere in this module.

The event payload only says *which* label was added. Every guard runs on state re-read from the API
(``IssueState`` from ``GET …/issues/{n}``, every page of comments, fresh FreeScout threads), because the
per-issue concurrency group may drop a queued run and a stale payload must not decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bridge.model import Conversation
from bridge.text import html_to_text
from bridge.vocab import (
    FIELD_GITHUB_ISSUE_URL,
    LABEL_CUSTOMER_REPORTED,
    LABEL_LINKED,
    LABEL_NEEDS_CONFIRM,
    LABEL_REGRESSION,
    TAG_FROM_GITHUB,
    TICKET_COMMENT,
    conversation_id_of,
    conversation_ids_in,
    ticket_url_in,
)

__all__ = ["TICKET_COMMENT", "conversation_id_of", "ticket_url_in"]  # re-exported: the format lives in vocab


class Action(StrEnum):
    CREATE_TICKET = "create_ticket"
    REQUEST_CONFIRM = "request_confirm"
    SKIP = "skip"


@dataclass(frozen=True)
class Decision:
    """What to do and why; ``reason`` is a stable key, ``detail`` a sentence for the step summary."""

    action: Action
    reason: str
    detail: str = ""
    conversation_id: int | None = None


@dataclass(frozen=True)
class IssueState:
    number: int
    html_url: str
    title: str
    body: str
    labels: tuple[str, ...]
    is_pull_request: bool
    created_at: str


@dataclass(frozen=True)
class LabelEvent:
    """An ``issues``/``labeled`` payload reduced to what the script uses (the issue part may be stale)."""

    repository: str
    label: str
    sender: str
    issue: IssueState


@dataclass(frozen=True)
class Comment:
    body: str
    html_url: str


#: Labels this workflow acts on, and what each one does.
LABEL_ACTIONS: Mapping[str, Action] = {
    LABEL_CUSTOMER_REPORTED: Action.CREATE_TICKET,
    LABEL_REGRESSION: Action.CREATE_TICKET,
    LABEL_NEEDS_CONFIRM: Action.REQUEST_CONFIRM,
}

#: FreeScout tags a created ticket gets for each label the issue carries (``_from_github`` always).
LABEL_TAGS: Mapping[str, tuple[str, ...]] = {
    LABEL_CUSTOMER_REPORTED: ("customer-reported",),
    LABEL_REGRESSION: ("bug", "regression"),
}

#: The phrase that makes the confirmation note recognisable on a re-run.
CONFIRM_PHRASE = "Customer confirmation requested"


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def parse_issue(data: Mapping[str, Any]) -> IssueState:
    """An issue object from the payload or the REST API; raises ``ValueError`` if it is not one."""
    number = data.get("number")
    if isinstance(number, bool) or not isinstance(number, int):
        raise ValueError("issue.number must be an integer")
    labels = data.get("labels")
    names = tuple(
        str(label["name"]) if isinstance(label, Mapping) else str(label)
        for label in (labels if isinstance(labels, list) else [])
        if isinstance(label, str) or (isinstance(label, Mapping) and isinstance(label.get("name"), str))
    )
    return IssueState(
        number=number,
        html_url=_str(data, "html_url"),
        title=_str(data, "title"),
        body=_str(data, "body"),
        labels=names,
        is_pull_request=data.get("pull_request") is not None,
        created_at=_str(data, "created_at"),
    )


def route(event_name: str, payload: Any) -> LabelEvent | Decision:
    """Turn the event into a ``LabelEvent`` for a label we handle, or a SKIP saying why not."""
    if event_name != "issues":
        return Decision(Action.SKIP, "not_issues_event", f"event `{event_name or '?'}` is not `issues`")
    if not isinstance(payload, Mapping) or not isinstance(payload.get("issue"), Mapping):
        return Decision(Action.SKIP, "no_issue", "the payload carries no issue")
    if payload.get("action") != "labeled":
        return Decision(Action.SKIP, "not_labeled", f"action `{payload.get('action')}` is not `labeled`")
    label = payload.get("label")
    name = label.get("name") if isinstance(label, Mapping) else None
    if not isinstance(name, str) or not name:
        return Decision(Action.SKIP, "no_label", "the payload names no label")
    try:
        issue = parse_issue(payload["issue"])
    except ValueError:
        return Decision(Action.SKIP, "no_issue", "the payload's issue has no number")
    if issue.is_pull_request:
        return Decision(Action.SKIP, "pull_request", "labels on pull requests are not synced")
    if name not in LABEL_ACTIONS:
        handled = ", ".join(f"`{n}`" for n in LABEL_ACTIONS)
        return Decision(Action.SKIP, "label_not_handled", f"label `{name}` is not one of {handled}")
    repo = payload.get("repository")
    sender = payload.get("sender")
    return LabelEvent(
        repository=_str(repo, "full_name") if isinstance(repo, Mapping) else "",
        label=name,
        sender=_str(sender, "login") if isinstance(sender, Mapping) else "",
        issue=issue,
    )


def needs_ticket_settings(label: str) -> bool:
    return LABEL_ACTIONS.get(label) is Action.CREATE_TICKET


def ticket_comment(url: str) -> str:
    return TICKET_COMMENT.format(url=url)


def sentinel_tickets(comments: Iterable[Comment]) -> list[str]:
    """Ticket URLs named by sentinel comments, oldest first."""
    return [url for url in (ticket_url_in(c.body) for c in comments) if url]


def _label_gone(issue: IssueState, label: str) -> Decision | None:
    if issue.is_pull_request:
        return Decision(Action.SKIP, "pull_request", "the issue is a pull request")
    if label not in issue.labels:
        return Decision(Action.SKIP, "label_removed", f"label `{label}` is no longer on the issue")
    return None


def decide_create(issue: IssueState, label: str, comments: Iterable[Comment]) -> Decision:
    """The loop guards for filing a ticket, on fresh issue state and every page of comments."""
    gone = _label_gone(issue, label)
    if gone is not None:
        return gone
    if LABEL_LINKED in issue.labels:
        return Decision(
            Action.SKIP, "direction_a_issue", f"the issue carries `{LABEL_LINKED}`: it came from FreeScout"
        )
    ids = conversation_ids_in(issue.body)
    if ids:
        return Decision(
            Action.SKIP,
            "direction_a_marker",
            f"the issue body names FreeScout conversation {ids[0]}: it came from FreeScout",
            conversation_id=ids[0],
        )
    tickets = sentinel_tickets(comments)
    if tickets:
        return Decision(
            Action.SKIP,
            "already_filed",
            f"a ticket was already filed for this issue: {tickets[0]}",
            conversation_id=conversation_id_of(tickets[0]),
        )
    return Decision(Action.CREATE_TICKET, label, f"label `{label}` files a FreeScout ticket")


def decide_confirm(issue: IssueState, label: str, comments: Iterable[Comment]) -> Decision:
    """Find the linked ticket: a sentinel comment (Direction B) first, then the body marker (Direction A)."""
    gone = _label_gone(issue, label)
    if gone is not None:
        return gone
    for url in sentinel_tickets(comments):
        conversation_id = conversation_id_of(url)
        if conversation_id is not None:
            return Decision(
                Action.REQUEST_CONFIRM,
                "linked_by_comment",
                f"ticket {url} (sentinel comment)",
                conversation_id,
            )
    ids = conversation_ids_in(issue.body)
    if ids:
        return Decision(
            Action.REQUEST_CONFIRM, "linked_by_marker", f"conversation {ids[0]} (issue body marker)", ids[0]
        )
    return Decision(
        Action.SKIP,
        "no_linked_ticket",
        "no FreeScout ticket is linked to this issue (no sentinel comment, no marker in the body)",
    )


def ticket_tags(labels: Iterable[str]) -> tuple[str, ...]:
    """``_from_github`` plus the tags of every ticket label the issue carries, without repeats."""
    tags = [TAG_FROM_GITHUB]
    present = set(labels)
    for label, extra in LABEL_TAGS.items():
        if label in present:
            tags.extend(t for t in extra if t not in tags)
    return tuple(tags)


def merged_tags(existing: Iterable[str] | None, wanted: Iterable[str]) -> list[str]:
    """``PUT /tags`` replaces the whole set: keep what support added, add ours (names lower-cased)."""
    merged = [t.strip().lower() for t in existing or () if t.strip()]
    merged.extend(t for t in wanted if t not in merged)
    return merged


def same_issue_url(a: str, b: str) -> bool:
    return a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower() != ""


def matching_ticket(conversations: Iterable[Conversation], issue_url: str) -> Conversation | None:
    """The published conversation whose ``github_issue_url`` is this issue: a ticket filed earlier."""
    for conv in conversations:
        field = conv.field(FIELD_GITHUB_ISSUE_URL)
        if conv.state == "published" and field is not None and same_issue_url(field.value, issue_url):
            return conv
    return None


def confirm_note_exists(conv: Conversation, issue_url: str, bot_user_id: int) -> bool:
    """A note by the bot asking for confirmation about this issue is already on the ticket."""
    return any(
        t.type == "note"
        and t.created_by_id == bot_user_id
        and issue_url in t.body
        and CONFIRM_PHRASE.lower() in html_to_text(t.body).lower()
        for t in conv.threads
    )
