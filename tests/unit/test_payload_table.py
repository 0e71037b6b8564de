"""Recorded FreeScout deliveries and the decision each must get, one line per delivery (zulip's fixture style).

``PAYLOADS``: a webhook body under ``tests/fixtures/freescout/`` arriving as an event must get this
``bridge.criteria`` decision from the body alone. Each row runs the pure path of a delivery: the exact
bytes are verified against their signature, decoded and parsed as the web process does it, then decided.
Rows under ``real/webhooks/`` replay what a real FreeScout sent, byte for byte, signed with that install's
secret (``real/install.json``); the two documented example bodies at the top level are encoded as FreeScout
sends them and signed here. ``FRESH_STATE``: the example objects read back through
``GET /api/conversations/{id}?embed=threads,tags`` (the webhook body is that object without tags), with
the tags an agent set, decide the link and the closing comment.

A new recording needs a row: ``test_every_recorded_delivery_has_a_row`` fails until it has one.
"""

from __future__ import annotations

import json

import pytest

from bridge.app import parse_json
from bridge.criteria import (
    CONVERSATION_EVENTS,
    Action,
    Decision,
    Rules,
    decide_close,
    decide_from_payload,
    decide_link,
)
from bridge.model import Conversation, parse_conversation
from bridge.settings import BridgeConfig
from bridge.signature import Verifier
from tests.helpers import FIXTURES, SECRET, fixture, signed

FREESCOUT = FIXTURES / "freescout"
REAL = FREESCOUT / "real"
INSTALL = json.loads((REAL / "install.json").read_text(encoding="utf-8"))
BOT = 9  # FREESCOUT_BOT_USER_ID of the documented examples ("Issue Bot"); the real install's is in INSTALL
MAILBOXES = frozenset({1, 2})  # handled mailboxes: ops (1) and support (2) in both

# recorded delivery (under tests/fixtures/freescout/), X-FreeScout-Event, decision: "action reason"
PAYLOADS = [
    ("real/webhooks/convo.created", "convo.created", "fetch needs_fresh_state"),  # no tags in webhooks
    ("real/webhooks/convo.note.created", "convo.note.created", "ignore own_write_echo"),  # the bot's note
    ("real/webhooks/convo.status", "convo.status", "fetch closed_with_link"),
    # The return path's writes (issue #10) echo and change nothing; a note on a closed ticket is no closure.
    ("real/webhooks/convo.note.created.notice_on_closed", "convo.note.created", "ignore own_write_echo"),
    ("real/webhooks/convo.status.active_by_bot", "convo.status", "ignore own_write_echo"),
    ("real/webhooks/convo.status.pending_by_agent", "convo.status", "fetch status_with_link"),
    ("real/webhooks/customer.created", "customer.created", "ignore unsupported_event"),
    ("convo.created.json", "convo.created", "fetch needs_fresh_state"),
    ("convo.created.json", "convo.customer.reply.created", "fetch needs_fresh_state"),
    ("convo.created.json", "convo.agent.reply.created", "fetch needs_fresh_state"),
    ("convo.created.json", "convo.note.created", "fetch needs_fresh_state"),
    ("convo.created.json", "convo.assigned", "fetch needs_fresh_state"),
    ("convo.created.json", "convo.moved", "fetch needs_fresh_state"),
    ("convo.created.json", "convo.status", "fetch needs_fresh_state"),
    ("convo.created.json", "convo.deleted", "ignore unsupported_event"),
    ("convo.created.json", "customer.created", "ignore unsupported_event"),
    ("convo.created.json", "custom.webhook.event", "ignore unsupported_event"),
    ("convo.status.closed.json", "convo.status", "fetch closed_with_link"),
    ("convo.status.closed.json", "convo.note.created", "ignore already_linked"),
    ("convo.status.closed.json", "convo.customer.reply.created", "ignore already_linked"),
    ("convo.status.closed.json", "convo.assigned", "ignore already_linked"),
]

# fixture file, the conversation's tags, decide_link, decide_close: "action reason" each
FRESH_STATE = [
    ("convo.created.json", ["bug"], "link tag:bug", "ignore no_longer_closed"),
    (
        "convo.created.json",
        ["feature_request", "billing"],
        "link tag:feature_request",
        "ignore no_longer_closed",
    ),
    ("convo.created.json", [], "ignore no_trigger_tag", "ignore no_longer_closed"),
    ("convo.created.json", ["bug", "_from_github"], "ignore from_github", "ignore no_longer_closed"),
    ("convo.status.closed.json", ["bug"], "ignore already_linked", "comment_closed closed"),
    ("convo.status.closed.json", [], "ignore already_linked", "comment_closed closed"),
]


def delivery(name: str, event: str) -> tuple[bytes, str, Rules]:
    """The bytes, their signature header and the rules of the install that sent them."""
    if name.startswith("real/"):
        raw = (FREESCOUT / f"{name}.raw").read_bytes()
        headers = json.loads((FREESCOUT / f"{name}.headers.json").read_text(encoding="utf-8"))
        assert headers["x-freescout-event"] == event, "recorded under another event"
        rules = Rules(BridgeConfig(), int(INSTALL["bot_user_id"]), MAILBOXES)
        return raw, headers["x-freescout-signature"], rules
    raw, signed_headers = signed(fixture(name), event)
    return raw, signed_headers["X-FreeScout-Signature"], Rules(BridgeConfig(), BOT, MAILBOXES)


def secret(name: str) -> str:
    return str(INSTALL["webhook_secret"]) if name.startswith("real/") else SECRET


def fresh(name: str, tags: list[str]) -> Conversation:
    """The fixture as ``GET /api/conversations/{id}?embed=threads,tags`` returns it, with ``tags``."""
    data = fixture(name)
    data["_embedded"]["tags"] = [{"id": n, "name": tag} for n, tag in enumerate(tags, start=1)]
    return parse_conversation(data)


@pytest.mark.parametrize(("name", "event", "expected"), PAYLOADS)
def test_payload_decision(name: str, event: str, expected: str) -> None:
    raw, signature, rules = delivery(name, event)
    Verifier([secret(name)]).verify(raw, signature)
    data = parse_json(raw)
    if event not in CONVERSATION_EVENTS:  # the web process answers these by name, before parsing the body
        decision = Decision(Action.IGNORE, "unsupported_event")
    else:
        decision = decide_from_payload(event, parse_conversation(data, newest_thread_only=True), rules)
    assert f"{decision.action.value} {decision.reason}" == expected


@pytest.mark.parametrize(("name", "tags", "link", "close"), FRESH_STATE)
def test_fresh_state_decision(name: str, tags: list[str], link: str, close: str) -> None:
    conversation = fresh(name, tags)
    linked, closed = (
        decide_link(conversation, Rules(BridgeConfig(), BOT, MAILBOXES)),
        decide_close(conversation),
    )
    assert f"{linked.action.value} {linked.reason}" == link
    assert f"{closed.action.value} {closed.reason}" == close


def recorded_deliveries() -> list[str]:
    """Every delivery on file: the example bodies (named after their event) and each real recording."""
    examples = [p.name for p in FREESCOUT.glob("*.json") if p.name.startswith(("convo.", "customer."))]
    real = [p.relative_to(FREESCOUT).as_posix().removesuffix(".raw") for p in REAL.rglob("*.raw")]
    return sorted(examples + real)


def test_every_recorded_delivery_has_a_row() -> None:
    assert set(recorded_deliveries()) <= {name for name, _event, _expected in PAYLOADS}
