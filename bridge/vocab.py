"""The link vocabulary both directions speak: labels, tags, field names and markers.

Direction A (the web service) and Direction B (the Actions script) import these names from here
and nowhere else, so a rename can never split the two locks apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

#: FreeScout custom field that holds the linked GitHub issue URL (one copy per mailbox).
FIELD_GITHUB_ISSUE_URL: Final = "github_issue_url"

#: FreeScout tag put on tickets that Direction B created from GitHub: Direction A never links them.
TAG_FROM_GITHUB: Final = "_from_github"

#: GitHub label put on issues that Direction A opened: Direction B never files a ticket for them.
LABEL_LINKED: Final = "freescout-linked"
LABEL_CUSTOMER_REPORTED: Final = "customer-reported"
LABEL_REGRESSION: Final = "regression"
LABEL_NEEDS_CONFIRM: Final = "needs-customer-confirm"

#: The FreeScout events a bridge webhook subscribes to, in FreeScout's own order: every event whose body is
#: a Conversation and that can change whether it should be linked (deleted ones cannot).
WEBHOOK_EVENTS: Final[tuple[str, ...]] = (
    "convo.created",
    "convo.assigned",
    "convo.status",
    "convo.moved",
    "convo.customer.reply.created",
    "convo.agent.reply.created",
    "convo.note.created",
    "convo.restored",
)

#: Sentinel that starts every comment Direction B posts, and sits in every issue body Direction A writes.
SENTINEL: Final = "[freescout-autolink]"

#: The comment Direction B leaves on an issue once its ticket exists: the GitHub-side lock.
TICKET_COMMENT: Final = SENTINEL + " FreeScout ticket: {url}"
_TICKET_COMMENT_RE = re.compile(r"\A\s*" + re.escape(SENTINEL) + r" FreeScout ticket: (\S+)")
_CONVERSATION_URL_RE = re.compile(r"/conversation/(\d+)/?(?:[?#]\S*)?\Z")

# Hidden HTML comments carry machine-readable state. GitHub renders neither of them.
_ISSUE_MARKER = "<!-- [freescout-autolink] conversation={conversation_id} -->"
_ISSUE_MARKER_RE = re.compile(r"<!-- \[freescout-autolink\] conversation=(\d+) -->")
_CLOSED_MARKER = "<!-- [freescout-autolink] closed conversation={conversation_id} closure={closure} -->"


def issue_marker(conversation_id: int) -> str:
    """The hidden marker in an issue body that names the conversation it was opened for."""
    return _ISSUE_MARKER.format(conversation_id=int(conversation_id))


def conversation_ids_in(text: str | None) -> list[int]:
    """Every conversation id named by an issue marker in ``text`` (an issue body)."""
    return [int(m) for m in _ISSUE_MARKER_RE.findall(text or "")]


def closed_marker(conversation_id: int, closure: str) -> str:
    """The marker that makes the closing comment idempotent per closure (a re-close is a new closure)."""
    safe = re.sub(r"[^0-9A-Za-z:.\-]", "", closure)
    return _CLOSED_MARKER.format(conversation_id=int(conversation_id), closure=safe)


def ticket_url_in(comment_body: str) -> str | None:
    """The ticket URL of a sentinel comment, or ``None`` (a quote of one, ``> [freescout…``, is not one)."""
    match = _TICKET_COMMENT_RE.match(comment_body or "")
    return match.group(1) if match else None


def conversation_id_of(url: str) -> int | None:
    """The conversation id of a FreeScout ticket URL (``…/conversation/123``)."""
    match = _CONVERSATION_URL_RE.search(url)
    return int(match.group(1)) if match else None


def issue_number_from_url(url: str, repository: str) -> int | None:
    """The issue number of ``url`` when it is an issue of ``repository`` (any host: github.com or GHES).

    The custom field stores only the URL, so this is the one place a number is read from a URL.
    """
    owner, _, repo = repository.partition("/")
    pattern = rf"^https?://[^/\s]+/{re.escape(owner)}/{re.escape(repo)}/issues/(\d+)/?$"
    match = re.match(pattern, url.strip(), flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


# --- Return path (issue #10): link records, the demand comment, notice keys, note commands ---------------

#: Written into ``github_issue_url`` by ``#github unlink`` (FreeScout ignores ``""``): not linked, and not to be
#: auto-linked again by tags, because an agent decided so. A ``#github link`` command on it still works.
UNLINKED: Final = "unlinked"

#: GitHub label put on an issue once enough tickets wait on it (``[return_path] demand_label``).
LABEL_CUSTOMER_DEMAND: Final = "customer-demand"

#: A GitHub comment that starts with this prefix is addressed to support: it reaches every linked ticket.
SUPPORT_PREFIX: Final = "/support"

#: The keyword that starts a note command in FreeScout (``#github link acme/app#412``).
COMMAND_KEYWORD: Final = "#github"

_RECORD = "<!-- [freescout-autolink] {kind} conversation={conversation_id} via=note:{thread_id} -->"
_RECORD_RE = re.compile(
    r"\A\s*<!-- \[freescout-autolink\] (link|unlink) conversation=(\d+) via=note:(\d+) -->"
)
_DEMAND_MARKER = "<!-- [freescout-autolink] demand -->"
_DEMAND_RE = re.compile(r"\A\s*<!-- \[freescout-autolink\] demand -->")
_NOTICE = "<!-- [freescout-autolink] notice={key} -->"
_NOTICE_RE = re.compile(r"<!-- \[freescout-autolink\] notice=([^\s>]+) -->")
_HIDDEN_RE = re.compile(r"\A\s*<!-- \[freescout-autolink\]")
_SUPPORT_RE = re.compile(r"\A\s*" + re.escape(SUPPORT_PREFIX) + r"(?=\s|\Z)", flags=re.IGNORECASE)


@dataclass(frozen=True)
class LinkRecord:
    """A link or unlink record comment: ``kind`` is ``"link"`` or ``"unlink"``; ``thread_id`` the command note."""

    kind: str
    conversation_id: int
    thread_id: int


def link_record_marker(kind: str, conversation_id: int, thread_id: int) -> str:
    """The hidden marker that starts a link (``kind="link"``) or unlink record comment."""
    if kind not in ("link", "unlink"):
        raise ValueError(f"a link record is 'link' or 'unlink', not {kind!r}")
    return _RECORD.format(kind=kind, conversation_id=int(conversation_id), thread_id=int(thread_id))


def link_record_in(comment_body: str | None) -> LinkRecord | None:
    """The record a comment starts with, or ``None`` (a record quoted further down is not one)."""
    match = _RECORD_RE.match(comment_body or "")
    if match is None:
        return None
    return LinkRecord(match.group(1), int(match.group(2)), int(match.group(3)))


def demand_marker() -> str:
    """The hidden marker that starts the one demand comment per issue."""
    return _DEMAND_MARKER


def is_demand_comment(comment_body: str | None) -> bool:
    return _DEMAND_RE.match(comment_body or "") is not None


def is_bridge_comment(comment_body: str | None) -> bool:
    """A comment the bridge wrote: Direction B's sentinel, or any hidden marker of ours at the start."""
    body = (comment_body or "").lstrip()
    return body.startswith(SENTINEL) or _HIDDEN_RE.match(body) is not None


def support_text(comment_body: str | None) -> str | None:
    """The text after ``/support`` when the comment is addressed to support, else ``None``."""
    match = _SUPPORT_RE.match(comment_body or "")
    return (comment_body or "")[match.end() :].strip() if match else None


def _key_part(value: str) -> str:
    """Keys sit inside an HTML comment: no whitespace, no ``>``, no ``--``."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^0-9A-Za-z:/#._=+@-]", "", value))


def issue_key(repository: str, number: int) -> str:
    """``acme/app#412``, lower-cased: GitHub names are case-insensitive, and both transports must agree."""
    return _key_part(f"{repository.strip().lower()}#{int(number)}")


def instant(timestamp: str) -> str:
    """``2026-11-29T10:00:00Z`` for any ISO-8601 spelling of that second (payload and API must agree)."""
    try:
        parsed = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return timestamp.strip()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def closed_notice_key(repository: str, number: int, closed_at: str) -> str:
    return f"closed:{issue_key(repository, number)}:{_key_part(instant(closed_at))}"


def reopened_notice_key(repository: str, number: int, closed_at: str) -> str:
    return f"reopened:{issue_key(repository, number)}:after={_key_part(instant(closed_at))}"


def comment_notice_key(repository: str, number: int, comment_id: int) -> str:
    return f"comment:{issue_key(repository, number)}:{int(comment_id)}"


def command_notice_key(thread_id: int) -> str:
    return f"command:{int(thread_id)}"


def notice_marker(key: str) -> str:
    """The hidden key of a bridge note on a ticket, so the note is written once."""
    return _NOTICE.format(key=_key_part(key))


def notice_keys_in(html_body: str | None) -> list[str]:
    """Every notice key in a FreeScout note body."""
    return _NOTICE_RE.findall(html_body or "")
