"""Which FreeScout tickets wait on a GitHub issue, read from the issue itself (no database of our own).

The link set = the ticket named by the body's opener marker (Direction A) ∪ the tickets of Direction B's
sentinel comments ∪ link record comments, minus tickets whose newest record, in comment order, is an
unlink record. ``since`` is when the ticket's current link began, so ``/support`` comments from before it
are not replayed to a ticket that was linked later. Pure: callers pass the body and every page of comments.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from bridge.github_model import IssueComment
from bridge.vocab import (
    LinkRecord,
    conversation_id_of,
    conversation_ids_in,
    link_record_in,
    ticket_url_in,
)


class LinkSource(StrEnum):
    OPENER = "opener"  # the issue body's marker: the ticket that opened the issue
    SENTINEL = "sentinel"  # Direction B's comment: the ticket filed for the issue
    RECORD = "record"  # a link record comment: a ticket linked by a note command


@dataclass(frozen=True)
class LinkedTicket:
    """One ticket in the link set; ``since_comment_id`` is ``None`` when linked before every comment."""

    conversation_id: int
    since: str
    source: LinkSource
    since_comment_id: int | None = None

    def hears_of(self, comment: IssueComment) -> bool:
        """A comment posted after this ticket's link began (comment ids grow with time on GitHub)."""
        return self.since_comment_id is None or comment.id > self.since_comment_id


@dataclass(frozen=True)
class _Event:
    kind: str  # "link" | "unlink"
    conversation_id: int
    source: LinkSource
    comment: IssueComment | None


def _trusted(comment: IssueComment, authors: Collection[str] | None) -> bool:
    """A record counts only from the bridge's logins when known, and never from a stranger: only people
    with a role on the repository and bots (the web bridge's App, ``github-actions[bot]``) can post one."""
    if authors is not None:
        return comment.author_login.lower() in authors
    return comment.from_team or comment.author_type == "Bot"


def _events(
    issue_body: str, comments: Iterable[IssueComment], authors: Collection[str] | None
) -> list[_Event]:
    events = [_Event("link", cid, LinkSource.OPENER, None) for cid in conversation_ids_in(issue_body)[:1]]
    for comment in comments:
        if not _trusted(comment, authors):
            continue
        record = link_record_in(comment.body)
        if record is not None:
            events.append(_Event(record.kind, record.conversation_id, LinkSource.RECORD, comment))
            continue
        url = ticket_url_in(comment.body)
        cid = conversation_id_of(url) if url else None
        if cid is not None:
            events.append(_Event("link", cid, LinkSource.SENTINEL, comment))
    return events


def linked_conversations(
    issue_body: str,
    comments: Iterable[IssueComment],
    *,
    issue_created_at: str = "",
    authors: Collection[str] | None = None,
) -> list[LinkedTicket]:
    """The tickets linked to the issue now, in the order they were linked.

    ``authors`` (lower-cased logins), when given, are the only ones whose comments count as records: the
    bridge's own logins (the web bridge's account and ``github-actions[bot]`` for Direction B).
    """
    trusted = {a.lower() for a in authors} if authors is not None else None
    current: dict[int, LinkedTicket] = {}
    for event in _events(issue_body, sorted(comments, key=lambda c: c.id), trusted):
        if event.kind == "unlink":
            current.pop(event.conversation_id, None)
        elif event.conversation_id not in current:
            comment = event.comment
            current[event.conversation_id] = LinkedTicket(
                conversation_id=event.conversation_id,
                since=comment.created_at if comment else issue_created_at,
                source=event.source,
                since_comment_id=comment.id if comment else None,
            )
    return list(current.values())


def has_record(comments: Iterable[IssueComment], record: LinkRecord) -> bool:
    """The record of this command (same kind, ticket and note) is already on the issue: do not post it again."""
    return any(link_record_in(c.body) == record for c in comments)
