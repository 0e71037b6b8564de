"""The link rules, as a table: one row per reason, no HTTP involved."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bridge.criteria import Action, Rules, decide_close, decide_from_payload, decide_link, has_trigger
from bridge.model import Conversation, Thread, parse_conversation
from bridge.settings import BridgeConfig, KeywordScan
from tests.helpers import fixture

BOT = 9
RULES = Rules(BridgeConfig(), BOT, None)


def conv(tags: list[str] | None = ("bug",), name: str = "convo.created.json", **changes: Any) -> Conversation:  # type: ignore[assignment]
    data = fixture(name, **changes)
    if tags is not None:
        data.setdefault("_embedded", {})["tags"] = [{"id": i, "name": t} for i, t in enumerate(tags)]
    return parse_conversation(data)


def linked(c: Conversation, url: str = "https://github.com/acme/app/issues/412") -> Conversation:
    fields = tuple(replace(f, value=url) if f.name == "github_issue_url" else f for f in c.custom_fields)
    return replace(c, custom_fields=fields)


@pytest.mark.parametrize(
    ("event", "changes", "action", "reason"),
    [
        ("customer.created", {}, Action.IGNORE, "unsupported_event"),
        ("convo.deleted", {}, Action.IGNORE, "unsupported_event"),
        ("convo.created", {"state": "deleted"}, Action.IGNORE, "deleted"),
        ("convo.created", {"status": "spam"}, Action.IGNORE, "spam"),
        ("convo.created", {}, Action.FETCH, "needs_fresh_state"),
        ("convo.note.created", {}, Action.FETCH, "needs_fresh_state"),
        ("convo.status", {}, Action.FETCH, "needs_fresh_state"),
    ],
)
def test_payload_rules(event: str, changes: dict[str, Any], action: Action, reason: str) -> None:
    decision = decide_from_payload(event, conv(None, **changes), RULES)
    assert (decision.action, decision.reason) == (action, reason)


def test_payload_already_linked_needs_no_call_except_when_closing() -> None:
    created = linked(conv(None))
    assert decide_from_payload("convo.note.created", created, RULES).reason == "already_linked"
    closed = linked(conv(None, "convo.status.closed.json"))
    assert decide_from_payload("convo.status", closed, RULES).action is Action.FETCH


def test_payload_own_note_echo_is_ignored() -> None:
    closed = conv(None, "convo.status.closed.json")
    echo = replace(closed, threads=closed.threads[1:])  # newest thread: the bot's note
    assert decide_from_payload("convo.note.created", echo, RULES).reason == "own_write_echo"
    other_bot = Rules(BridgeConfig(), 12345, None)
    assert decide_from_payload("convo.note.created", echo, other_bot).reason != "own_write_echo"


def test_payload_mailbox_outside_the_set_is_ignored() -> None:
    rules = Rules(BridgeConfig(), BOT, frozenset({1}))
    assert decide_from_payload("convo.created", conv(None), rules).reason == "mailbox_not_configured"
    assert decide_from_payload("convo.created", conv(None, mailboxId=1), rules).action is Action.FETCH


@pytest.mark.parametrize(
    ("tags", "changes", "action", "reason"),
    [
        (["bug"], {}, Action.LINK, "tag:bug"),
        (["Feature_Request".lower()], {}, Action.LINK, "tag:feature_request"),
        (["auto:status", "x"], {}, Action.LINK, "tag:auto:status"),
        (["question"], {}, Action.IGNORE, "no_trigger_tag"),
        ([], {}, Action.IGNORE, "no_trigger_tag"),
        (["bug", "_from_github"], {}, Action.IGNORE, "from_github"),
        (["bug"], {"state": "draft"}, Action.IGNORE, "not_published"),
        (["bug"], {"state": "deleted"}, Action.IGNORE, "deleted"),
        (["bug"], {"status": "spam"}, Action.IGNORE, "spam"),
        (["bug"], {"customFields": []}, Action.MISCONFIGURED, "field_missing_in_mailbox"),
    ],
)
def test_fresh_state_rules(tags: list[str], changes: dict[str, Any], action: Action, reason: str) -> None:
    decision = decide_link(conv(tags, **changes), RULES)
    assert (decision.action, decision.reason) == (action, reason)


def test_fresh_state_linked_with_note_is_done_and_without_note_completes() -> None:
    closed = conv(["bug"], "convo.status.closed.json")  # has the bot's note naming issue 412
    assert decide_link(closed, RULES).reason == "already_linked"
    no_note = replace(closed, threads=tuple(t for t in closed.threads if t.type != "note"))
    assert decide_link(no_note, RULES).action is Action.COMPLETE_LINK
    assert decide_link(no_note, RULES, is_ours=lambda _url: False).reason == "already_linked"


def test_keyword_scan_is_opt_in_and_whole_word() -> None:
    c = conv(["question"])  # body: "... every CSV export ends with an error 500."
    assert has_trigger(c, BridgeConfig()) is None
    on = BridgeConfig(keyword_scan=KeywordScan(True, ("error 500",)))
    assert has_trigger(c, on) == "keyword:error 500"
    partial = BridgeConfig(keyword_scan=KeywordScan(True, ("expo",)))
    assert has_trigger(c, partial) is None


def test_close_rules() -> None:
    closed = conv(None, "convo.status.closed.json")
    assert decide_close(closed).action is Action.COMMENT_CLOSED
    assert decide_close(replace(closed, status="active")).reason == "no_longer_closed"
    unlinked = replace(closed, custom_fields=())
    assert decide_close(unlinked).reason == "not_linked"


def with_note(c: Conversation, body: str, by_id: int = 3, by_type: str = "user") -> Conversation:
    note = Thread(
        id=9001, type="note", created_by_id=by_id, created_by_type=by_type, body=body, created_at=""
    )
    return replace(c, threads=(note, *c.threads))


@pytest.mark.parametrize(
    ("body", "by_id", "action", "reason"),
    [
        ("<p>#github link acme/app#412</p>", 3, Action.COMMAND, "note_command"),
        ("<p>Customer says hi.</p><p>#GitHub unlink</p>", 3, Action.COMMAND, "note_command"),
        ("<p>#github frobnicate</p>", 3, Action.COMMAND, "note_command"),  # refused with a reply
        ("<p>see #github link in the runbook</p>", 3, Action.IGNORE, "already_linked"),
        ("<p>#github link acme/app#412</p>", BOT, Action.IGNORE, "own_write_echo"),
    ],
)
def test_payload_command_notes_go_to_the_command_path_whatever_the_link(
    body: str, by_id: int, action: Action, reason: str
) -> None:
    decision = decide_from_payload("convo.note.created", with_note(linked(conv(None)), body, by_id), RULES)
    assert (decision.action, decision.reason) == (action, reason)


def test_payload_a_command_only_counts_in_a_note_event_by_an_agent() -> None:
    body = "<p>#github link 412</p>"
    assert decide_from_payload("convo.created", with_note(conv(None), body), RULES).action is Action.FETCH
    customer = with_note(conv(None), body, by_id=5, by_type="customer")
    assert decide_from_payload("convo.note.created", customer, RULES).action is Action.FETCH
    outside = Rules(BridgeConfig(), BOT, frozenset({1}))
    assert decide_from_payload("convo.note.created", with_note(conv(None), body), outside).reason == (
        "mailbox_not_configured"
    )


def test_payload_status_of_a_linked_ticket_is_read_for_the_demand_count() -> None:
    reopened = linked(conv(None, "convo.status.closed.json", status="active"))
    assert decide_from_payload("convo.status", reopened, RULES).reason == "status_with_link"
    assert decide_from_payload("convo.assigned", reopened, RULES).reason == "already_linked"


def test_the_unlinked_sentinel_is_never_linked_again_by_tags() -> None:
    unlinked = linked(conv(["bug"]), "unlinked")
    assert decide_link(unlinked, RULES).reason == "unlinked"
    assert decide_link(linked(conv(["bug"]), "UNLINKED"), RULES).reason == "unlinked"
    for event in ("convo.created", "convo.note.created", "convo.status", "convo.customer.reply.created"):
        assert decide_from_payload(event, linked(conv(None), "unlinked"), RULES).reason == "unlinked"
    closed = linked(conv(None, "convo.status.closed.json"), "unlinked")
    assert decide_close(closed).reason == "not_linked"
    command = with_note(linked(conv(None), "unlinked"), "<p>#github link 412</p>")
    assert decide_from_payload("convo.note.created", command, RULES).action is Action.COMMAND
