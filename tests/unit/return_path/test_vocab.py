"""The return path's vocabulary: every marker parses back, keys agree across transports, quotes are not records."""

from __future__ import annotations

import pytest

from bridge.vocab import (
    LinkRecord,
    closed_notice_key,
    command_notice_key,
    comment_notice_key,
    conversation_id_of,
    demand_marker,
    instant,
    is_bridge_comment,
    is_demand_comment,
    link_record_in,
    link_record_marker,
    notice_keys_in,
    notice_marker,
    reopened_notice_key,
    support_text,
    ticket_url_in,
)


@pytest.mark.parametrize("kind", ["link", "unlink"])
def test_link_record_marker_parses_back(kind: str) -> None:
    marker = link_record_marker(kind, 42, 7001)
    assert marker == f"<!-- [freescout-autolink] {kind} conversation=42 via=note:7001 -->"
    assert link_record_in(marker + "\nFreeScout ticket #1042 now waits on this issue.") == LinkRecord(
        kind, 42, 7001
    )


@pytest.mark.parametrize(
    "body",
    [
        "> <!-- [freescout-autolink] link conversation=42 via=note:7001 -->",
        "see <!-- [freescout-autolink] link conversation=42 via=note:7001 -->",
        "<!-- [freescout-autolink] relink conversation=42 via=note:7001 -->",
        "<!-- [freescout-autolink] link conversation=x via=note:7001 -->",
        "",
    ],
    ids=["quoted", "mid-text", "unknown-kind", "non-numeric", "empty"],
)
def test_only_a_record_at_the_start_counts(body: str) -> None:
    assert link_record_in(body) is None


def test_link_record_kind_is_checked() -> None:
    with pytest.raises(ValueError, match="link"):
        link_record_marker("relink", 1, 2)


def test_demand_marker_is_recognised_only_at_the_start() -> None:
    assert is_demand_comment(demand_marker() + "\n**3 FreeScout tickets**")
    assert not is_demand_comment("> " + demand_marker())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/support The fix ships in 2.4.1", "The fix ships in 2.4.1"),
        ("  /SUPPORT\nmultiline\ntext", "multiline\ntext"),
        ("/support", ""),
        ("/supportive words", None),
        ("please /support this", None),
        ("", None),
    ],
)
def test_support_prefix(body: str, expected: str | None) -> None:
    assert support_text(body) == expected


@pytest.mark.parametrize(
    ("body", "ours"),
    [
        ("[freescout-autolink] FreeScout ticket: https://help.example.com/conversation/5", True),
        (link_record_marker("link", 1, 2) + "\ntext", True),
        (demand_marker() + "\ntext", True),
        ("<!-- [freescout-autolink] closed conversation=1 closure=x -->\nresolved", True),
        ("/support hello", False),
        ("> [freescout-autolink] quoted", False),
    ],
)
def test_bridge_comments_are_recognised_by_their_marker(body: str, ours: bool) -> None:
    assert is_bridge_comment(body) is ours


def test_notice_keys_round_trip_and_lower_case_the_repository() -> None:
    key = closed_notice_key("Acme/App", 412, "2026-11-29T10:00:00Z")
    assert key == "closed:acme/app#412:2026-11-29T10:00:00Z"
    assert reopened_notice_key("acme/app", 412, "2026-11-29T10:00:00Z") == (
        "reopened:acme/app#412:after=2026-11-29T10:00:00Z"
    )
    assert comment_notice_key("ACME/app", 412, 99) == "comment:acme/app#412:99"
    assert command_notice_key(7001) == "command:7001"
    body = notice_marker(key) + "<p>acme/app#412 was closed</p>" + notice_marker(command_notice_key(1))
    assert notice_keys_in(body) == [key, "command:1"]


@pytest.mark.parametrize(
    "spelling",
    ["2026-11-29T10:00:00Z", "2026-11-29T10:00:00+00:00", "2026-11-29T11:00:00+01:00", "2026-11-29T10:00:00"],
)
def test_closed_keys_agree_whatever_the_timestamp_spelling(spelling: str) -> None:
    assert instant(spelling) == "2026-11-29T10:00:00Z"
    assert closed_notice_key("acme/app", 1, spelling) == "closed:acme/app#1:2026-11-29T10:00:00Z"


def test_a_key_cannot_close_the_html_comment() -> None:
    marker = notice_marker("comment:a/b#1:2 --> <script>")
    assert marker.count("-->") == 1 and "<script>" not in marker


def test_direction_b_sentinel_helpers_live_in_vocab() -> None:
    url = ticket_url_in("[freescout-autolink] FreeScout ticket: https://help.example.com/conversation/55")
    assert url == "https://help.example.com/conversation/55"
    assert conversation_id_of(url) == 55
