"""The simulator against the real FreeScout: the same requests to both, the answers and webhooks compared.

Compared: status codes, the headers the bridge reads (``Content-Type``, ``Resource-ID``), body shapes
(keys and value types), the values the bridge relies on, and the webhooks the sequence causes (events,
headers, signature, body shapes). A difference is either fixed in the simulator or listed in
``ACCEPTED`` with the reason it is accepted.

With ``CAPTURE_FREESCOUT_FIXTURES=1`` the real answers and webhook bodies are written to
``tests/fixtures/freescout/real/`` for the fast unit tests.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.signature import sign_freescout
from bridge.vocab import notice_keys_in
from sandbox.freescout_sim import FreeScoutSimConfig
from sandbox.freescout_sim import create_app as freescout_app
from sandbox.real_freescout import RealFreeScout
from sandbox.serve import ServerThread
from tests.real_freescout.fidelity import (
    NOTICE_HTML,
    NOTICE_KEY,
    WEBHOOK_HEADERS,
    Receiver,
    Transcript,
    differences,
    find_context,
    run_scenario,
    shape,
)

pytestmark = pytest.mark.real_freescout

REAL_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "freescout" / "real"

# (step, difference) -> why the simulator keeps it.
ACCEPTED: dict[tuple[str, str], str] = {}
# Webhook body values the simulator does not imitate, and why.
ACCEPTED_VALUES = {
    "threadsCount": "real 1.8.159 sends 0 in convo.created and a stale count later (the counter is updated "
    "after the job is queued); the bridge never reads it, and the simulator keeps the true count",
}


class Pair:
    def __init__(self, sim: Transcript, real: Transcript, secrets: dict[str, str]) -> None:
        self.sim = sim
        self.real = real
        self.secrets = secrets


def _sim_transcript(receiver: ServerThread, rec: Receiver) -> tuple[Transcript, str]:
    config = FreeScoutSimConfig(retry_delays=(0.2,))
    with ServerThread(freescout_app(config)) as server:
        headers = {"X-FreeScout-API-Key": config.api_key, "Accept": "application/json"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            ctx = find_context(api, f"{receiver.url}/hook")

            def flush() -> list[dict[str, Any]]:
                httpx.post(
                    f"{server.url}/_sim/wait-idle", json={"timeout": 20}, timeout=30
                ).raise_for_status()
                return rec.take()

            transcript = run_scenario(api, ctx, flush)
            hook = transcript.steps["webhook.create"].body["id"]
            transcript.record("webhook.delete", api.delete(f"/api/webhooks/{hook}"))
    return transcript, config.webhook_secret


def _real_transcript(fs: RealFreeScout, receiver: ServerThread, rec: Receiver) -> Transcript:
    with fs.api() as api:
        ctx = find_context(api, f"{receiver.url}/hook")

        def flush() -> list[dict[str, Any]]:
            fs.drain()
            return rec.take()

        fs.artisan("queue:restart")
        transcript = run_scenario(api, ctx, flush)
        hook = transcript.steps["webhook.create"].body["id"]
        transcript.record("webhook.delete", api.delete(f"/api/webhooks/{hook}"))
    return transcript


@pytest.fixture(scope="module")
def pair(real_fs: RealFreeScout) -> Iterator[Pair]:
    rec = Receiver()
    with ServerThread(rec.app) as receiver:
        sim, sim_secret = _sim_transcript(receiver, rec)
        real = _real_transcript(real_fs, receiver, rec)
    if os.environ.get("CAPTURE_FREESCOUT_FIXTURES") == "1":
        capture(real, real_fs)
    yield Pair(sim, real, {"sim": sim_secret, "real": real_fs.webhook_secret})


def accepted(step: str, found: list[str]) -> list[str]:
    return [d for d in found if (step, d) not in ACCEPTED]


def test_statuses_and_headers_match(pair: Pair) -> None:
    assert pair.sim.steps.keys() == pair.real.steps.keys()
    mismatched = []
    for name, real in pair.real.steps.items():
        sim = pair.sim.steps[name]
        if (sim.status, sim.headers) != (real.status, real.headers):
            mismatched += accepted(
                name, [f"{name}: simulator {sim.status} {sim.headers}, real {real.status} {real.headers}"]
            )
    assert mismatched == []


def test_body_shapes_match(pair: Pair) -> None:
    found = []
    for name, real in pair.real.steps.items():
        found += accepted(
            name, [f"{name} {d}" for d in differences(shape(pair.sim.steps[name].body), shape(real.body))]
        )
    assert found == []


@pytest.mark.parametrize("side", ["sim", "real"])
def test_values_the_bridge_relies_on(pair: Pair, side: str) -> None:
    t: Transcript = getattr(pair, side)
    body = {name: step.body for name, step in t.steps.items()}
    assert body["conversation.get.embed_tags_after_create"]["_embedded"]["tags"] == [], "create ignores tags"
    assert sorted(tag["name"] for tag in body["conversation.get.embed_tags"]["_embedded"]["tags"]) == [
        "bug",
        "needs triage",
    ]
    assert body["conversation.get.embed_only_tags"]["_embedded"]["threads"] == [], "embed=tags drops threads"
    assert "tags" not in body["conversation.get"].get("_embedded", {}), "no tags without embed"
    created = body["conversation.create"]["id"]
    listed = body["conversations.list.filters"]["_embedded"]["conversations"]
    assert created in [c["id"] for c in listed], "tag=BUG finds it (names are normalised)"
    assert all(c["mailboxId"] == listed[0]["mailboxId"] and c["status"] == "active" for c in listed)
    other = body["conversations.list.other_tag"]["_embedded"]["conversations"]
    assert created not in [c["id"] for c in other]
    fields = body["conversation.get.after_fields"]["customFields"]
    assert [(f["name"], f["value"]) for f in fields] == [
        ("github_issue_url", "https://github.com/acme/app/issues/412")
    ]
    assert body["conversation.get.closed"]["status"] == "closed"
    assert body["note.without_user"] == {
        "message": "Error occurred",
        "_embedded": {
            "errors": [{"path": "user", "message": "`user` parameter is required", "source": "JSON"}]
        },
    }
    assert body["conversation.missing"] == {"message": "Not Found", "_embedded": {"errors": []}}
    assert body["auth.wrong_key"] == {"message": "Not Authorized"}


# Thread order: real FreeScout sorts by ``created_at`` only (one-second resolution) and lists threads of
# the same second in no fixed order (both id orders were seen on one install, docs/upstream/freescout.md
# §3). Accepted: the simulator fixes one, oldest first, the order that breaks code reading threads[0].
def in_freescout_order(threads: list[dict[str, Any]], side: str) -> bool:
    stamps = [_epoch(t["createdAt"]) for t in threads]
    if side == "real":
        return stamps == sorted(stamps, reverse=True)
    by_second = sorted(threads, key=lambda t: (-_epoch(t["createdAt"]), t["id"]))
    return [t["id"] for t in threads] == [t["id"] for t in by_second]


def _epoch(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())


def newest(threads: list[dict[str, Any]]) -> dict[str, Any]:
    return max(threads, key=lambda t: int(t["id"]))


@pytest.mark.parametrize("side", ["sim", "real"])
def test_what_the_return_path_relies_on(pair: Pair, side: str) -> None:
    """Issue #10's assumptions: a note keeps its hidden key (API answer and later reads) and leaves a
    closed ticket closed; ``PUT`` status with ``byUser`` answers 204 and writes a status line by that
    user; the same status again answers 204 too; threads come in FreeScout's order (see above)."""
    t: Transcript = getattr(pair, side)
    body = {name: step.body for name, step in t.steps.items()}
    assert t.steps["note.notice_on_closed"].status == 201
    assert body["note.notice_on_closed"]["body"] == NOTICE_HTML
    after = body["conversation.get.after_notice"]
    assert after["status"] == "closed", "a note leaves a closed ticket closed"
    threads = after["_embedded"]["threads"]
    assert newest(threads)["body"] == NOTICE_HTML and notice_keys_in(newest(threads)["body"]) == [NOTICE_KEY]
    assert in_freescout_order(threads, side)
    for step in ("status.pending", "status.active_by_bot", "status.active_again"):
        assert (t.steps[step].status, t.steps[step].body) == (204, None), step
    active = body["conversation.get.active"]
    assert active["status"] == "active"
    line = newest(active["_embedded"]["threads"])
    assert (line["type"], line["status"], line["createdBy"]["email"]) == (
        "lineitem",
        "active",
        "issue-bot@example.com",
    )
    assert in_freescout_order(active["_embedded"]["threads"], side)


@pytest.mark.parametrize("side", ["sim", "real"])
def test_what_the_return_path_echoes(pair: Pair, side: str) -> None:
    """The bot's note echoes as ``convo.note.created`` (status still closed, the key in the body); each
    status change as one ``convo.status`` naming who made it; an unchanged status as nothing."""
    t: Transcript = getattr(pair, side)
    by_label: dict[str, list[dict[str, Any]]] = {}
    for hook in t.webhooks:
        if "label" in hook:
            by_label.setdefault(hook["label"], []).append(json.loads(hook["raw"]))
    events = {
        label: [h["headers"]["x-freescout-event"] for h in t.webhooks if h.get("label") == label]
        for label in ("notice_on_closed", "pending_by_agent", "active_by_bot", "active_again")
    }
    assert events == {
        "notice_on_closed": ["convo.note.created"],
        "pending_by_agent": ["convo.status"],
        "active_by_bot": ["convo.status"],
        "active_again": [],
    }
    (note,) = by_label["notice_on_closed"]
    assert note["status"] == "closed" and newest(note["_embedded"]["threads"])["body"] == NOTICE_HTML
    (pending,) = by_label["pending_by_agent"]
    (woken,) = by_label["active_by_bot"]
    assert pending["status"] == "pending" and woken["status"] == "active"
    line = newest(woken["_embedded"]["threads"])
    assert (line["type"], line["createdBy"]["email"]) == ("lineitem", "issue-bot@example.com")
    assert newest(pending["_embedded"]["threads"])["createdBy"]["email"] == "admin@example.com"


def test_same_bodies_for_validation_errors(pair: Pair) -> None:
    for name in ("webhook.unknown_events", "status.without_by_user"):
        assert pair.sim.steps[name].body == pair.real.steps[name].body, name


def test_webhooks_caused_match(pair: Pair) -> None:
    def events(t: Transcript) -> list[str]:
        return sorted(h["headers"]["x-freescout-event"] for h in t.webhooks)

    assert events(pair.sim) == events(pair.real)
    for side, t in (("sim", pair.sim), ("real", pair.real)):
        for hook in t.webhooks:
            assert hook["headers"]["x-freescout-signature"] == sign_freescout(hook["raw"], pair.secrets[side])
            assert {k for k in hook["headers"] if k.startswith("x-")} == {
                "x-freescout-event",
                "x-freescout-signature",
            }
            assert hook["headers"]["content-type"] == "application/json"
    found = []
    for real_hook in pair.real.webhooks:
        event = real_hook["headers"]["x-freescout-event"]
        sim_hook = next(h for h in pair.sim.webhooks if h["headers"]["x-freescout-event"] == event)
        step = f"webhook {event}"
        diffs = differences(shape(json.loads(sim_hook["raw"])), shape(json.loads(real_hook["raw"])))
        found += accepted(step, [f"{step} {d}" for d in diffs])
    assert found == []


def webhook_values(raw: bytes) -> dict[str, Any]:
    """What the bridge reads from a delivery, independent of ids that differ between the two targets."""
    body = json.loads(raw)
    threads = sorted(body.get("_embedded", {}).get("threads", []), key=lambda t: t["id"])
    values = {
        "status": body.get("status"),
        "state": body.get("state"),
        "threads": [(t["type"], (t.get("createdBy") or {}).get("type")) for t in threads],
        "customFields": [(f["name"], f["value"]) for f in body.get("customFields", [])],
        "tags": "tags" in body.get("_embedded", {}),
        "threadsCount": body.get("threadsCount"),
    }
    return {k: v for k, v in values.items() if k not in ACCEPTED_VALUES}


def test_webhook_bodies_carry_the_same_values(pair: Pair) -> None:
    sim = [(h["headers"]["x-freescout-event"], webhook_values(h["raw"])) for h in pair.sim.webhooks]
    real = [(h["headers"]["x-freescout-event"], webhook_values(h["raw"])) for h in pair.real.webhooks]
    assert sorted(sim, key=repr) == sorted(real, key=repr)


def capture(real: Transcript, fs: RealFreeScout) -> None:
    """Write the real answers and webhooks as fixtures. The webhook secret of this throwaway install is
    kept so the unit tests can verify the captured signatures; the API key is not (requests are not
    stored)."""
    api_dir, hook_dir = REAL_FIXTURES / "api", REAL_FIXTURES / "webhooks"
    api_dir.mkdir(parents=True, exist_ok=True)
    hook_dir.mkdir(parents=True, exist_ok=True)
    about = {"webhook_secret": fs.webhook_secret, "bot_user_id": fs.bot_user_id, "admin_user_id": 1}
    (REAL_FIXTURES / "install.json").write_text(json.dumps(about, indent=2) + "\n")
    for name, step in real.steps.items():
        record = {"status": step.status, "headers": step.headers, "body": step.body}
        (api_dir / f"{name}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    for hook in real.webhooks:
        event = hook["headers"]["x-freescout-event"]
        name = f"{event}.{hook['label']}" if "label" in hook else event
        headers = {k: v for k, v in hook["headers"].items() if k in (*WEBHOOK_HEADERS, "user-agent")}
        (hook_dir / f"{name}.raw").write_bytes(hook["raw"])
        (hook_dir / f"{name}.headers.json").write_text(json.dumps(headers, indent=2) + "\n")
        body = json.loads(hook["raw"])
        (hook_dir / f"{name}.json").write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
