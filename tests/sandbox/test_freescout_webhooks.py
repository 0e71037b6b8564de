"""Webhook deliveries of the local FreeScout simulator follow docs/upstream/freescout.md sections 1-3."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from typing import Any

import httpx
import pytest

from sandbox import freescout_sim, phpjson
from tests.sandbox.conftest import FAST_RETRIES, Receiver

SECRET = freescout_sim.FreeScoutSimConfig.webhook_secret
ALL_CONVO = [
    "convo.created",
    "convo.status",
    "convo.note.created",
    "convo.customer.reply.created",
    "convo.assigned",
]


def register(control: httpx.Client, url: str, events: list[str] = ALL_CONVO, **extra: Any) -> None:
    assert control.post("/_sim/webhooks", json={"url": url, "events": events, **extra}).status_code == 201


def drain(control: httpx.Client, timeout: float = 10) -> list[dict[str, Any]]:
    assert control.post("/_sim/wait-idle", json={"timeout": timeout}).status_code == 200
    deliveries: list[dict[str, Any]] = control.get("/_sim/deliveries").json()["deliveries"]
    return deliveries


def arrive(control: httpx.Client, **extra: Any) -> dict[str, Any]:
    body = {
        "mailboxId": 2,
        "subject": "Export fails",
        "body": '<p>Café: see <a href="https://example.com/x">https://example.com/x</a></p>',
        "customerEmail": "dana@example.com",
        **extra,
    }
    conv: dict[str, Any] = control.post("/_sim/conversations", json=body).json()
    return conv


def signature_ok(raw: bytes, header: str) -> bool:
    mac = hmac.new(SECRET.encode("ascii"), raw, hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(mac).decode("ascii"), header)


def test_created_event_is_php_encoded_signed_and_bare(fs_control: httpx.Client, receiver: Receiver) -> None:
    register(fs_control, receiver.url)
    conv = arrive(fs_control, tags=["needs-issue"])
    (delivery,) = drain(fs_control)
    assert (delivery["event"], delivery["attempt"], delivery["status"], delivery["ok"]) == (
        "convo.created",
        1,
        200,
        True,
    )
    (got,) = receiver.received
    assert b"https:\\/\\/example.com\\/x" in got.body and b"Caf\\u00e9" in got.body
    assert phpjson.dumps_bytes(json.loads(got.body)) == got.body  # compact, PHP-escaped throughout
    assert signature_ok(got.body, got.headers["x-freescout-signature"])
    assert got.headers["x-freescout-event"] == "convo.created"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"].startswith("GuzzleHttp/6")
    assert not any("delivery" in h or "timestamp" in h for h in got.headers)
    payload = json.loads(got.body)
    assert payload["id"] == conv["id"] and "event" not in payload and "data" not in payload
    assert "tags" not in payload["_embedded"]
    assert payload["customFields"] == [{"id": 7, "name": "github_issue_url", "value": "", "text": ""}]


def test_tag_and_custom_field_changes_send_nothing(
    fs: httpx.Client, fs_control: httpx.Client, receiver: Receiver
) -> None:
    register(fs_control, receiver.url)
    cid = arrive(fs_control)["id"]
    drain(fs_control)
    fs.put(f"/api/conversations/{cid}/tags", json={"tags": ["github-linked"]})
    fs.put(
        f"/api/conversations/{cid}/custom_fields",
        json={"customFields": [{"id": 7, "value": "https://x.y/1"}]},
    )
    fs_control.post(f"/_sim/conversations/{cid}/tags", json={"tags": ["ui-tag"]})
    assert len(drain(fs_control)) == 1


def newest(body: dict[str, Any]) -> dict[str, Any]:
    """The thread written last: the highest id (same-second threads are listed oldest first)."""
    thread: dict[str, Any] = max(body["_embedded"]["threads"], key=lambda t: t["id"])
    return thread


def test_our_own_note_comes_back_as_note_created(
    fs: httpx.Client, fs_control: httpx.Client, receiver: Receiver
) -> None:
    register(fs_control, receiver.url)
    cid = arrive(fs_control)["id"]
    fs.post(
        f"/api/conversations/{cid}/threads",
        json={"type": "note", "user": 9, "text": "<p>Linked acme/app#1</p>"},
    )
    fs.put(f"/api/conversations/{cid}", json={"byUser": 9, "status": "pending"})
    events = [d["event"] for d in drain(fs_control)]
    assert events == ["convo.created", "convo.note.created", "convo.status"]
    note = json.loads(receiver.received[1].body)
    assert newest(note)["createdBy"]["id"] == 9
    status = json.loads(receiver.received[2].body)
    assert newest(status)["type"] == "lineitem"


def test_ui_actions_fire_their_events(fs_control: httpx.Client, receiver: Receiver) -> None:
    register(fs_control, receiver.url)
    cid = arrive(fs_control)["id"]
    fs_control.post(f"/_sim/conversations/{cid}/agent-status", json={"status": "closed", "userId": 3})
    drain(fs_control)
    fs_control.post(f"/_sim/conversations/{cid}/customer-reply", json={"body": "<p>still broken</p>"})
    deliveries = drain(fs_control)
    assert [d["event"] for d in deliveries] == [
        "convo.created",
        "convo.status",
        "convo.customer.reply.created",
    ]
    closed = json.loads(receiver.received[1].body)
    assert (closed["status"], closed["closedBy"]) == ("closed", 3)
    reopened = json.loads(receiver.received[2].body)
    assert reopened["status"] == "active" and newest(reopened)["type"] == "customer"


def test_body_is_built_when_the_job_runs_not_when_the_event_fired(
    fs_control: httpx.Client, receiver: Receiver
) -> None:
    register(fs_control, receiver.url)
    receiver.hold = True
    cid = arrive(fs_control)["id"]
    assert receiver.arrived.wait(10)  # the worker is busy with convo.created
    fs_control.post(f"/_sim/conversations/{cid}/agent-status", json={"status": "closed", "userId": 3})
    fs_control.post(f"/_sim/conversations/{cid}/customer-reply", json={"body": "<p>still broken</p>"})
    receiver.release.set()
    drain(fs_control)
    status_event = json.loads(receiver.received[1].body)
    assert receiver.received[1].headers["x-freescout-event"] == "convo.status"
    assert status_event["status"] == "active"  # already reopened by the customer when the job ran


def test_failed_delivery_is_retried_with_the_stored_snapshot(
    fs: httpx.Client, fs_control: httpx.Client, receiver: Receiver
) -> None:
    register(fs_control, receiver.url, ["convo.created"])
    receiver.statuses = [500, 503]
    receiver.hold = True
    cid = arrive(fs_control)["id"]
    assert receiver.arrived.wait(10)
    fs.post(
        f"/api/conversations/{cid}/threads", json={"type": "note", "user": 9, "text": "changed meanwhile"}
    )
    receiver.release.set()
    deliveries = drain(fs_control)
    assert [(d["attempt"], d["status"], d["ok"]) for d in deliveries] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    bodies = {r.body for r in receiver.received}
    assert len(bodies) == 1 and json.loads(bodies.pop())["threadsCount"] == 1
    assert {r.headers["x-freescout-signature"] for r in receiver.received} == {deliveries[0]["signature"]}


def test_gives_up_after_ten_attempts(fs_control: httpx.Client, receiver: Receiver) -> None:
    register(fs_control, receiver.url, ["convo.created"])
    receiver.statuses = [410] * 20
    arrive(fs_control)
    deliveries = drain(fs_control)
    assert [d["attempt"] for d in deliveries] == list(range(1, 11))
    assert deliveries[-1]["dropped"] and not any(d["dropped"] for d in deliveries[:-1])
    assert len(receiver.received) == 10


def test_connection_errors_are_retried(fs_control: httpx.Client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    register(fs_control, f"http://127.0.0.1:{port}/hook", ["convo.created"])
    arrive(fs_control)
    deliveries = drain(fs_control)
    assert len(deliveries) == 10 and all(d["status"] is None and d["error"] for d in deliveries)


@pytest.fixture
def fs_config() -> freescout_sim.FreeScoutSimConfig:
    return freescout_sim.FreeScoutSimConfig(retry_delays=FAST_RETRIES, delivery_timeout=0.3)


def test_timeouts_are_retried(fs_control: httpx.Client, receiver: Receiver) -> None:
    register(fs_control, receiver.url, ["convo.created"])
    receiver.sleep = 0.6
    arrive(fs_control)
    deliveries = drain(fs_control)
    assert deliveries[0]["error"].startswith("timeout") and deliveries[-1]["ok"]


def test_redelivery_sends_the_same_bytes_again(
    fs: httpx.Client, fs_control: httpx.Client, receiver: Receiver
) -> None:
    register(fs_control, receiver.url, ["convo.created"])
    cid = arrive(fs_control)["id"]
    drain(fs_control)
    fs.put(f"/api/conversations/{cid}", json={"byUser": 9, "status": "closed"})
    again = fs_control.post("/_sim/redeliver", json={"index": 0}).json()
    assert again["redelivery"] and again["ok"] and again["event"] == "convo.created"
    first, second = receiver.received
    assert (
        first.body == second.body
        and first.headers["x-freescout-signature"] == second.headers["x-freescout-signature"]
    )
    assert fs_control.post("/_sim/redeliver", json={"index": 99}).status_code == 404


def test_mailbox_filter_applies_to_convo_events(fs_control: httpx.Client, receiver: Receiver) -> None:
    register(fs_control, receiver.url, ["convo.created"], mailboxes=[1])
    arrive(fs_control)
    arrive(fs_control, mailboxId=1)
    deliveries = drain(fs_control)
    assert len(deliveries) == 1 and json.loads(receiver.received[0].body)["mailboxId"] == 1


def test_api_created_conversation_fires_created_and_extra_thread_events(
    fs: httpx.Client, fs_control: httpx.Client, receiver: Receiver
) -> None:
    register(fs_control, receiver.url, ["convo.created", "convo.note.created", "customer.created"])
    body = {
        "type": "email",
        "mailboxId": 2,
        "subject": "From GitHub",
        "customer": {"email": "gh@example.com"},
        "threads": [
            {"type": "note", "user": 9, "text": "<p>note</p>"},
            {"type": "customer", "text": "<p>report</p>"},
        ],
    }
    assert fs.post("/api/conversations", json=body).status_code == 201
    assert sorted(d["event"] for d in drain(fs_control)) == [
        "convo.created",
        "convo.note.created",
        "customer.created",
    ]


def test_wait_idle_times_out_while_a_delivery_is_stuck(fs_control: httpx.Client, receiver: Receiver) -> None:
    register(fs_control, receiver.url, ["convo.created"])
    receiver.hold = True
    arrive(fs_control)
    assert receiver.arrived.wait(10)
    stuck = fs_control.post("/_sim/wait-idle", json={"timeout": 0.2})
    assert stuck.status_code == 504 and stuck.json()["idle"] is False
    receiver.release.set()
    assert drain(fs_control)[0]["ok"]


def test_api_assign_and_move_fire_their_events_but_unassign_does_not(
    fs: httpx.Client, fs_control: httpx.Client, receiver: Receiver
) -> None:
    register(
        fs_control,
        receiver.url,
        ["convo.assigned", "convo.moved", "convo.deleted", "convo.agent.reply.created"],
    )
    cid = arrive(fs_control)["id"]
    assert fs.put(f"/api/conversations/{cid}", json={"byUser": 9, "assignTo": 3}).status_code == 204
    assert fs.put(f"/api/conversations/{cid}", json={"byUser": 9, "assignTo": -1}).status_code == 204
    assert fs.put(f"/api/conversations/{cid}", json={"byUser": 9, "mailboxId": 1}).status_code == 204
    assert fs.put(f"/api/conversations/{cid}", json={"byUser": 9, "mailboxId": 99}).status_code == 400
    fs_control.post(f"/_sim/conversations/{cid}/agent-reply", json={"body": "<p>fixed</p>", "userId": 3})
    fs_control.post(f"/_sim/conversations/{cid}/delete", json={"byUserId": 3})
    events = [d["event"] for d in drain(fs_control)]
    assert events == ["convo.assigned", "convo.moved", "convo.agent.reply.created", "convo.deleted"]
    moved = json.loads(receiver.received[1].body)
    assert moved["mailboxId"] == 1 and [f["id"] for f in moved["customFields"]] == [12, 13]
    assert fs.get("/api/conversations", params={"state": "deleted"}).json()["page"]["totalElements"] == 1
