"""Direction B's pure core: routing, loop guards, link discovery, tags. No I/O."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.actions.decide import (
    Action,
    Comment,
    Decision,
    IssueState,
    LabelEvent,
    confirm_note_exists,
    conversation_id_of,
    decide_confirm,
    decide_create,
    matching_ticket,
    merged_tags,
    needs_ticket_settings,
    parse_issue,
    route,
    ticket_comment,
    ticket_tags,
    ticket_url_in,
)
from bridge.model import parse_conversation
from bridge.vocab import issue_marker
from tests.actions.payloads import ISSUE_URL, labeled, payload

TICKET = "https://help.example.com/conversation/42"


def issue(
    labels: tuple[str, ...] = ("customer-reported",), body: str = "text", pr: bool = False
) -> IssueState:
    return IssueState(1, ISSUE_URL, "Title", body, labels, pr, "2019-05-15T15:20:18Z")


def sentinel(url: str = TICKET) -> Comment:
    return Comment(ticket_comment(url), "https://github.com/Codertocat/Hello-World/issues/1#issuecomment-9")


# --- route: which events and labels the script acts on -------------------------------------------------


@pytest.mark.parametrize("label", ["customer-reported", "regression", "needs-customer-confirm"])
@pytest.mark.parametrize("fixture", ["issues.labeled.json", "issues.labeled.org.json"])
def test_handled_labels_route_to_an_event(label: str, fixture: str) -> None:
    routed = route("issues", labeled(label, name=fixture))
    assert isinstance(routed, LabelEvent)
    assert (routed.label, routed.repository, routed.sender) == (label, "Codertocat/Hello-World", "Codertocat")
    assert routed.issue.number == 1 and routed.issue.html_url == ISSUE_URL


def test_the_unmodified_fixture_label_bug_is_not_handled() -> None:
    routed = route("issues", payload())
    assert isinstance(routed, Decision)
    assert (routed.action, routed.reason) == (Action.SKIP, "label_not_handled")
    assert "`bug`" in routed.detail


@pytest.mark.parametrize(
    ("event_name", "data", "reason"),
    [
        ("push", labeled(), "not_issues_event"),
        ("pull_request", labeled(), "not_issues_event"),
        ("issues", payload("issues.opened.json"), "not_labeled"),
        ("issues", {**labeled(), "label": None}, "no_label"),
        ("issues", {k: v for k, v in labeled().items() if k != "label"}, "no_label"),
        ("issues", labeled(pull_request=True), "pull_request"),
        ("issues", labeled("freescout-linked"), "label_not_handled"),
        ("issues", {k: v for k, v in labeled().items() if k != "issue"}, "no_issue"),
        ("issues", [], "no_issue"),
    ],
)
def test_other_events_are_skipped_with_a_reason(event_name: str, data: Any, reason: str) -> None:
    routed = route(event_name, data)
    assert isinstance(routed, Decision)
    assert (routed.action, routed.reason) == (Action.SKIP, reason)
    assert routed.detail


def test_sender_comes_from_the_payload() -> None:
    routed = route("issues", labeled(sender="octo-engineer"))
    assert isinstance(routed, LabelEvent) and routed.sender == "octo-engineer"


def test_parse_issue_reads_the_rest_shape_and_rejects_non_issues() -> None:
    state = parse_issue(labeled(labels=["a", "b"])["issue"])
    assert state.labels == ("a", "b") and not state.is_pull_request and state.created_at
    assert parse_issue({"number": 3, "labels": ["x"], "body": None}).labels == ("x",)
    with pytest.raises(ValueError):
        parse_issue({"number": "3"})


@pytest.mark.parametrize(
    ("label", "needs"), [("customer-reported", True), ("regression", True), ("needs-customer-confirm", False)]
)
def test_only_ticket_labels_need_the_mailbox_settings(label: str, needs: bool) -> None:
    assert needs_ticket_settings(label) is needs


# --- loop guards for filing a ticket, on fresh state ------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "comments", "reason"),
    [
        (issue(), [], "customer-reported"),
        (issue(("customer-reported", "regression")), [], "customer-reported"),
        (issue(("customer-reported", "freescout-linked")), [], "direction_a_issue"),
        (issue(body="report\n\n" + issue_marker(1287)), [], "direction_a_marker"),
        (issue(), [Comment("first", ""), sentinel()], "already_filed"),
        (issue(), [Comment("> " + ticket_comment(TICKET), "")], "customer-reported"),
        (issue(("regression",)), [], "label_removed"),
        (issue(pr=True), [], "pull_request"),
    ],
)
def test_create_guards(state: IssueState, comments: list[Comment], reason: str) -> None:
    decision = decide_create(state, "customer-reported", comments)
    assert decision.reason == reason
    expected = Action.CREATE_TICKET if reason == "customer-reported" else Action.SKIP
    assert decision.action is expected


def test_already_filed_points_at_the_ticket() -> None:
    decision = decide_create(issue(), "customer-reported", [sentinel()])
    assert decision.conversation_id == 42 and TICKET in decision.detail


def test_direction_a_marker_names_its_conversation() -> None:
    decision = decide_create(issue(body=issue_marker(77)), "customer-reported", [])
    assert decision.conversation_id == 77


# --- finding the linked ticket for needs-customer-confirm -------------------------------------------------


@pytest.mark.parametrize(
    ("body", "comments", "reason", "conversation_id"),
    [
        ("text", [sentinel()], "linked_by_comment", 42),
        (issue_marker(1287), [], "linked_by_marker", 1287),
        (issue_marker(1287), [sentinel()], "linked_by_comment", 42),
        ("text", [Comment("no link here", "")], "no_linked_ticket", None),
        ("text", [sentinel("https://help.example.com/not-a-ticket")], "no_linked_ticket", None),
    ],
)
def test_confirm_finds_the_link(
    body: str, comments: list[Comment], reason: str, conversation_id: int | None
) -> None:
    decision = decide_confirm(issue(("needs-customer-confirm",), body), "needs-customer-confirm", comments)
    assert (decision.reason, decision.conversation_id) == (reason, conversation_id)
    assert decision.action is (Action.SKIP if conversation_id is None else Action.REQUEST_CONFIRM)


def test_confirm_skips_when_the_label_was_removed_meanwhile() -> None:
    decision = decide_confirm(issue(("bug",)), "needs-customer-confirm", [sentinel()])
    assert decision.reason == "label_removed"


# --- sentinel, tags and FreeScout-side matching ----------------------------------------------------------


def test_sentinel_comment_round_trips() -> None:
    body = ticket_comment(TICKET)
    assert body == "[freescout-autolink] FreeScout ticket: https://help.example.com/conversation/42"
    assert ticket_url_in(body) == TICKET
    assert ticket_url_in("  " + body + "\n\nthanks") == TICKET
    assert ticket_url_in("see " + body) is None
    assert conversation_id_of(TICKET) == 42
    assert conversation_id_of("https://help.example.com/sub/conversation/7/") == 7
    assert conversation_id_of("https://help.example.com/conversation/x") is None


@pytest.mark.parametrize(
    ("labels", "tags"),
    [
        (("customer-reported",), ("_from_github", "customer-reported")),
        (("regression",), ("_from_github", "bug", "regression")),
        (("regression", "customer-reported"), ("_from_github", "customer-reported", "bug", "regression")),
        (("other",), ("_from_github",)),
    ],
)
def test_ticket_tags(labels: tuple[str, ...], tags: tuple[str, ...]) -> None:
    assert ticket_tags(labels) == tags


def test_merged_tags_keep_what_support_added() -> None:
    assert merged_tags(("VIP", "bug"), ("_from_github", "bug")) == ["vip", "bug", "_from_github"]
    assert merged_tags(None, ("_from_github",)) == ["_from_github"]


def conversation(url: str = ISSUE_URL, state: str = "published", threads: list[Any] | None = None) -> Any:
    return parse_conversation(
        {
            "id": 42,
            "mailboxId": 3,
            "state": state,
            "customFields": [{"id": 7, "name": "github_issue_url", "value": url, "text": ""}],
            "_embedded": {"threads": threads or []},
        }
    )


@pytest.mark.parametrize(
    ("url", "state", "found"),
    [
        (ISSUE_URL, "published", True),
        (ISSUE_URL.upper() + "/", "published", True),
        (ISSUE_URL + "0", "published", False),
        ("", "published", False),
        (ISSUE_URL, "deleted", False),
    ],
)
def test_matching_ticket_compares_the_custom_field(url: str, state: str, found: bool) -> None:
    assert (matching_ticket([conversation(url, state)], ISSUE_URL) is not None) is found


def note(by: int, text: str, kind: str = "note") -> dict[str, Any]:
    return {"id": 1, "type": kind, "createdBy": {"id": by, "type": "user"}, "body": text}


@pytest.mark.parametrize(
    ("threads", "exists"),
    [
        ([note(9, f'<p>Customer confirmation requested on <a href="{ISSUE_URL}">x</a></p>')], True),
        ([note(8, f'<p>Customer confirmation requested on <a href="{ISSUE_URL}">x</a></p>')], False),
        ([note(9, f'<p>Filed from <a href="{ISSUE_URL}">x</a></p>')], False),
        ([note(9, "<p>Customer confirmation requested on another issue</p>")], False),
        ([note(9, f"Customer confirmation requested {ISSUE_URL}", kind="customer")], False),
    ],
)
def test_confirm_note_exists_needs_bot_issue_and_phrase(threads: list[Any], exists: bool) -> None:
    assert confirm_note_exists(conversation(threads=threads), ISSUE_URL, 9) is exists
