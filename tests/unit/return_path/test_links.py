"""The link set of an issue: opener marker ∪ Direction B sentinels ∪ link records, newest record wins."""

from __future__ import annotations

from bridge.github_model import IssueComment
from bridge.links import LinkedTicket, LinkSource, has_record, linked_conversations
from bridge.vocab import LinkRecord, issue_marker, link_record_marker
from tests.unit.return_path.samples import comment

BODY = issue_marker(101) + "\n- **FreeScout ticket:** #1101"
CREATED = "2021-07-05T18:05:24Z"


def record(
    cid: int, kind: str, conversation: int, thread: int, login: str = "issue-bridge[bot]"
) -> IssueComment:
    return comment(
        cid, link_record_marker(kind, conversation, thread) + "\nFreeScout ticket #1 …", login=login
    )


def sentinel(cid: int, conversation: int) -> IssueComment:
    body = f"[freescout-autolink] FreeScout ticket: https://help.example.com/conversation/{conversation}"
    return comment(cid, body, login="github-actions[bot]")


def ids(links: list[LinkedTicket]) -> list[int]:
    return [link.conversation_id for link in links]


def test_opener_marker_links_since_issue_creation() -> None:
    links = linked_conversations(BODY, [], issue_created_at=CREATED)
    assert links == [LinkedTicket(101, CREATED, LinkSource.OPENER, None)]


def test_opener_sentinel_and_records_together_in_link_order() -> None:
    comments = [comment(1, "a human"), sentinel(2, 202), record(3, "link", 303, 9001)]
    links = linked_conversations(BODY, comments, issue_created_at=CREATED)
    assert ids(links) == [101, 202, 303]
    assert [link.source for link in links] == [LinkSource.OPENER, LinkSource.SENTINEL, LinkSource.RECORD]
    assert links[2].since == comments[2].created_at and links[2].since_comment_id == 3


def test_newest_record_wins_and_relinking_restarts_since() -> None:
    comments = [record(1, "link", 303, 1), record(2, "unlink", 303, 2), record(5, "link", 303, 3)]
    (link,) = linked_conversations("", comments)
    assert link.since_comment_id == 5
    assert not link.hears_of(comment(4, "/support old news"))
    assert link.hears_of(comment(6, "/support news"))


def test_unlink_record_removes_the_opener() -> None:
    assert linked_conversations(BODY, [record(1, "unlink", 101, 7)]) == []


def test_comment_order_is_by_id_not_list_order() -> None:
    comments = [record(9, "unlink", 303, 2), record(4, "link", 303, 1)]
    assert linked_conversations("", comments) == []


def test_a_second_link_of_a_linked_ticket_keeps_the_first_since() -> None:
    (link,) = linked_conversations("", [sentinel(2, 202), record(3, "link", 202, 1)])
    assert link.source is LinkSource.SENTINEL and link.since_comment_id == 2


def test_records_by_others_are_ignored_when_authors_are_given() -> None:
    comments = [record(1, "link", 303, 1, login="mallory"), record(2, "link", 404, 1), sentinel(3, 505)]
    links = linked_conversations("", comments, authors={"Issue-Bridge[bot]", "github-actions[bot]"})
    assert ids(links) == [404, 505]
    assert ids(linked_conversations("", comments)) == [303, 404, 505]


def test_has_record_matches_kind_ticket_and_note() -> None:
    comments = [record(1, "link", 303, 7)]
    assert has_record(comments, LinkRecord("link", 303, 7))
    assert not has_record(comments, LinkRecord("unlink", 303, 7))
    assert not has_record(comments, LinkRecord("link", 303, 8))
