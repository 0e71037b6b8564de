"""A stranger commenting on a public issue can neither speak to support nor take a ticket out of the link."""

from __future__ import annotations

from bridge.links import linked_conversations
from bridge.return_path import support_comments
from bridge.vocab import issue_marker, link_record_marker
from tests.unit.return_path.samples import comment


def test_a_strangers_unlink_record_does_not_count() -> None:
    forged = comment(7, link_record_marker("unlink", 5, 1) + "thanks!", login="mallory", association="NONE")
    linked = linked_conversations(issue_marker(5), [forged], issue_created_at="2021-10-01T00:00:00Z")
    assert [t.conversation_id for t in linked] == [5]


def test_a_team_members_unlink_record_counts() -> None:
    record = comment(7, link_record_marker("unlink", 5, 1), login="dev", association="MEMBER")
    assert linked_conversations(issue_marker(5), [record]) == []


def test_only_the_team_speaks_to_support() -> None:
    comments = [
        comment(1, "/support from a stranger", login="mallory", association="NONE"),
        comment(2, "/support from a contributor", login="drive-by", association="CONTRIBUTOR"),
        comment(3, "/support the fix ships Friday", login="dev", association="COLLABORATOR"),
    ]
    assert [c.id for c, _ in support_comments(comments)] == [3]
