"""The link vocabulary both directions speak: labels, tags, field names and markers.

Direction A (the web service) and Direction B (the Actions script) import these names from here
and nowhere else, so a rename can never split the two locks apart.
"""

from __future__ import annotations

import re
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


def issue_number_from_url(url: str, repository: str) -> int | None:
    """The issue number of ``url`` when it is an issue of ``repository`` (any host: github.com or GHES).

    The custom field stores only the URL, so this is the one place a number is read from a URL.
    """
    owner, _, repo = repository.partition("/")
    pattern = rf"^https?://[^/\s]+/{re.escape(owner)}/{re.escape(repo)}/issues/(\d+)/?$"
    match = re.match(pattern, url.strip(), flags=re.IGNORECASE)
    return int(match.group(1)) if match else None
