"""The writes the pure core plans, as values: the shells carry them out in the order given.

Each value names its target and holds everything needed to check whether it already happened (the note's
hidden key, the record it posts), so a shell can look before it writes and a crash never doubles one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.vocab import LinkRecord


@dataclass(frozen=True)
class SetStatus:
    """``PUT /api/conversations/{id}`` with ``{"status": status, "byUser": by_user}``."""

    conversation_id: int
    status: str
    by_user: int


@dataclass(frozen=True)
class AddNote:
    """An internal note by ``user``; ``html`` already carries the hidden ``key`` (write it only if absent)."""

    conversation_id: int
    key: str
    html: str
    user: int


@dataclass(frozen=True)
class SetField:
    """``github_issue_url`` := ``value`` (an issue URL, or ``vocab.UNLINKED``)."""

    conversation_id: int
    value: str


@dataclass(frozen=True)
class PostRecord:
    """A link or unlink record comment on issue ``issue_number``; skip it when ``links.has_record``."""

    issue_number: int
    record: LinkRecord
    body: str


@dataclass(frozen=True)
class AddLabel:
    """Add ``label`` to the issue (idempotent on GitHub)."""

    issue_number: int
    label: str


@dataclass(frozen=True)
class RefreshDemand:
    """Recount the tickets waiting on the issue and edit its demand comment (``demand.plan_demand_comment``)."""

    issue_number: int


#: What a ticket's reconcile may write, status first, then the note that marks it done.
TicketWrite = SetStatus | AddNote
#: What a note command may write, in crash-safe order.
CommandStep = PostRecord | AddLabel | SetField | AddNote | RefreshDemand
