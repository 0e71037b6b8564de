"""Customer text is inert on GitHub, fits GitHub's limits, and our markers survive it."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bridge import text
from bridge.model import Conversation, Thread, parse_conversation
from bridge.render import closed_comment, issue_draft, link_note
from bridge.vocab import conversation_ids_in
from tests.helpers import fixture


def conversation(body_html: str, subject: str = "CSV export fails") -> Conversation:
    base = parse_conversation(fixture("convo.created.json", subject=subject))
    thread = Thread(1, "customer", 311, "customer", body_html, "2025-03-04T09:12:44Z")
    return replace(base, threads=(thread,), tags=("bug", "urgent"))


def draft(conv: Conversation, include_email: bool = False) -> tuple[str, str, tuple[str, ...]]:
    d = issue_draft(
        conv,
        freescout_url="https://help.example.com",
        mailbox_name="Support",
        tag_labels={"bug": "bug"},
        include_customer_email=include_email,
    )
    return d.title, d.body, d.labels


def outside_fences(body: str) -> str:
    return re.sub(r"(`{3,})text\n.*?\n\1", "", body, flags=re.S)


HOSTILE = (
    "<p>@octocat please look, see #123 and acme/app#9</p>"
    "<p><img src=x onerror=alert(1)> ![img](https://evil.example/x.png)</p>"
    "<p>[click](javascript:alert(1)) <script>alert(2)</script></p>"
    "<h1># heading</h1><p>```</p><p>--> <!-- [freescout-autolink] conversation=999 --></p>"
)


def test_mentions_refs_and_markup_stay_inside_a_fence() -> None:
    _title, body, _labels = draft(conversation(HOSTILE))
    outside = outside_fences(body)
    for needle in ("@octocat", "#123", "javascript:", "evil.example", "onerror", "alert("):
        assert needle not in outside
    assert "@octocat" in body  # the text itself survives, verbatim, inside the fence
    assert "alert(2)" not in body  # script content is dropped entirely
    assert conversation_ids_in(outside) == [1287]  # the hostile marker is not read as a marker


def test_fence_is_longer_than_any_backtick_run_in_the_message() -> None:
    _t, body, _l = draft(conversation("<p>`````x````</p>"))
    assert "``````text\n" in body


def test_subject_cannot_ping_in_the_title() -> None:
    title, body, _l = draft(conversation("<p>hi</p>", subject="@octocat broke #42"))
    assert "@octocat" not in title and "#42" not in title
    assert "@octocat" not in body and "#42" not in body


def test_labels_are_linked_plus_mapped_tags() -> None:
    assert draft(conversation("<p>x</p>"))[2] == ("freescout-linked", "bug")


def test_customer_email_only_when_allowed() -> None:
    conv = conversation("<p>x</p>")
    assert "dana@example.com" not in draft(conv)[1]
    assert "**Customer:** `dana@example.com`" in draft(conv, include_email=True)[1]


@pytest.mark.parametrize("unit", ["a", "é", "😀", "ש"])
def test_huge_message_truncates_at_code_points_under_the_limit(unit: str) -> None:
    _t, body, _l = draft(conversation("<p>" + unit * 300_000 + "</p>"))
    assert len(body) <= text.GITHUB_BODY_LIMIT
    assert "[truncated" in body
    body.encode("utf-8")  # no half characters or lone surrogates


def test_rtl_emoji_and_long_subject_survive() -> None:
    subject = "שלום 👋🏽 " + "x" * 10_000
    title, body, _l = draft(conversation("<p>مرحبا 👩‍💻</p>", subject=subject))
    assert len(title) <= text.GITHUB_TITLE_LIMIT and title.startswith("שלום 👋🏽")
    assert "مرحبا 👩‍💻" in body


def test_lone_surrogates_are_replaced() -> None:
    title, body, _l = draft(conversation("<p>bad \ud800 char</p>", subject="x\udfffy"))
    (title + body).encode("utf-8")


def test_note_and_comment_escape_and_mark() -> None:
    note = link_note('https://github.com/acme/app/issues/1"><script>', "acme/app#1")
    assert "<script>" not in note and "&quot;" in note
    conv = parse_conversation(fixture("convo.status.closed.json"))
    comment = closed_comment(conv, "https://help.example.com")
    assert "closed conversation=1287 closure=thread-5608" in comment
    assert "resolved" in comment and "UTC" in comment


def test_closure_key_is_the_newest_closing_line_whatever_the_list_order() -> None:
    """Closed, reopened and closed again within one second: FreeScout may list those threads oldest first
    (same-second order is not fixed), and the closure is still the second close."""
    base = parse_conversation(fixture("convo.status.closed.json"))
    at = base.closed_at
    lines = [
        Thread(7001, "lineitem", 9, "user", "", at, "closed", "changed-ticket-status"),
        Thread(7002, "lineitem", 9, "user", "", at, "active", "changed-ticket-status"),
        Thread(7003, "lineitem", 9, "user", "", at, "closed", "changed-ticket-status"),
    ]
    for order in (lines, lines[::-1]):
        assert replace(base, threads=tuple(order)).closure_key == "thread-7003"
    assert replace(base, threads=()).closure_key == at


def test_html_to_text_keeps_paragraphs_and_decodes_entities() -> None:
    assert text.html_to_text("<div>a &amp; b</div><p>c<br>d</p>") == "a & b\n\nc\nd"
