"""Webhooks recorded from a real FreeScout (1.8.159, API & Webhooks 1.0.82), replayed through the pure
core: what they show beyond their decisions (those are rows of ``test_payload_table.py``).

The bytes are exactly what FreeScout sent (``tests/fixtures/freescout/real/webhooks/*.raw``, captured by
``tests/real_freescout/test_fidelity.py`` with ``CAPTURE_FREESCOUT_FIXTURES=1``), signed with that
throwaway install's secret.
"""

from __future__ import annotations

import json

import pytest

from bridge.criteria import Rules
from bridge.model import parse_conversation
from bridge.settings import BridgeConfig
from sandbox.phpjson import dumps as php_json
from tests.helpers import FIXTURES

REAL = FIXTURES / "freescout" / "real"
INSTALL = json.loads((REAL / "install.json").read_text(encoding="utf-8"))
RULES = Rules(BridgeConfig(), int(INSTALL["bot_user_id"]), None)
EVENTS = ("convo.created", "convo.note.created", "convo.status", "customer.created")
# The return path's echoes (issue #10), recorded as ``<event>.<step>`` (their decisions are table rows too).
RETURN_PATH = (
    "convo.note.created.notice_on_closed",
    "convo.status.pending_by_agent",
    "convo.status.active_by_bot",
)


def delivery(event: str) -> tuple[bytes, dict[str, str]]:
    raw = (REAL / "webhooks" / f"{event}.raw").read_bytes()
    headers = json.loads((REAL / "webhooks" / f"{event}.headers.json").read_text(encoding="utf-8"))
    return raw, headers


@pytest.mark.parametrize("event", [*EVENTS, *RETURN_PATH])
def test_our_php_json_encoder_reproduces_freescouts_bytes(event: str) -> None:
    raw, _ = delivery(event)
    assert php_json(json.loads(raw)).encode("ascii") == raw


def test_the_newest_thread_is_the_highest_id_whatever_the_list_order() -> None:
    raw, _ = delivery("convo.note.created")
    body = json.loads(raw)
    conv = parse_conversation(body)
    newest = conv.newest_thread
    assert newest is not None and newest.type == "note" and newest.created_by_id == RULES.bot_user_id
    first = conv.first_customer_thread
    assert first is not None and first.id == min(t["id"] for t in body["_embedded"]["threads"])


def test_customer_created_is_a_customer_not_a_conversation() -> None:
    """It fires when creating a conversation creates its customer; the web process answers it by event
    name (``unsupported_event``) before parsing, because its body is a Customer."""
    body = json.loads(delivery("customer.created")[0])
    assert "mailboxId" not in body and body["_embedded"]["emails"][0]["value"] == "fidelity@example.com"


def test_real_bodies_carry_no_tags_and_every_field_of_the_mailbox() -> None:
    for event in ("convo.created", "convo.note.created", "convo.status"):
        body = json.loads(delivery(event)[0])
        assert "tags" not in body["_embedded"]
        assert [f["name"] for f in body["customFields"]] == ["github_issue_url"]
    assert json.loads(delivery("convo.created")[0])["customFields"][0]["value"] == ""


def test_threads_count_is_not_to_be_trusted() -> None:
    created = json.loads(delivery("convo.created")[0])
    assert created["threadsCount"] == 0 and len(created["_embedded"]["threads"]) == 1
