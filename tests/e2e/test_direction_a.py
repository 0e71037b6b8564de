"""Direction A end to end: real uvicorn bridge, FreeScout and GitHub simulators, real signed deliveries.

Each test plays the outside world through the simulators and asserts what each side received.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bridge.signature import sign_freescout
from sandbox.phpjson import dumps as php_json
from tests.harness import FS_SECRET, Bridge, FreeScout, GitHub

pytestmark = pytest.mark.e2e
StartBridge = Callable[..., Bridge]


def signed_delivery(
    bridge: Bridge, body: dict[str, object], event: str, secret: str = FS_SECRET
) -> httpx.Response:
    raw = php_json(body).encode("ascii")
    headers = {
        "Content-Type": "application/json",
        "X-FreeScout-Event": event,
        "X-FreeScout-Signature": sign_freescout(raw, secret),
    }
    return httpx.post(bridge.webhook_url(), content=raw, headers=headers, timeout=30)


def webhook_body(fs: FreeScout, conversation_id: int) -> dict[str, object]:
    """The conversation as FreeScout's webhook would carry it: no tags."""
    conv = fs.conversation(conversation_id)
    conv.get("_embedded", {}).pop("tags", None)
    return conv


def test_tagged_ticket_opens_one_issue_writes_back_and_notes(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge()
    conv = fs.email(subject="CSV export fails with error 500", tags=["bug"])
    fs.wait_idle()

    issues = gh.issues()
    assert len(issues) == 1
    issue = issues[0]
    assert issue["title"] == "CSV export fails with error 500"
    assert f"{fs.url}/conversation/{conv['id']}" in issue["body"]
    assert f"<!-- [freescout-autolink] conversation={conv['id']} -->" in issue["body"]
    assert "Every CSV export ends with an error 500." in issue["body"]
    assert "dana@example.com" not in issue["body"]
    assert [label["name"] for label in issue["labels"]] == ["freescout-linked", "bug"]

    assert fs.field(conv["id"]) == issue["html_url"]
    notes = fs.bot_notes(conv["id"])
    assert len(notes) == 1 and issue["html_url"] in notes[0]["body"]

    summary = [d for d in bridge.deliveries_logged() if d.get("outcome") == "linked"]
    assert len(summary) == 1
    line = summary[0]
    assert line["route"] == "support" and line["event"] == "convo.created"
    assert line["conversation_id"] == conv["id"] and line["issue_url"] == issue["html_url"]
    assert line["reason"] == "tag:bug" and "duration_ms" in line


def test_own_note_echo_is_answered_without_any_upstream_call(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge()
    conv = fs.email(tags=["bug"])
    fs.wait_idle()
    echoes = [d for d in bridge.deliveries_logged() if d.get("reason") == "own_write_echo"]
    assert len(echoes) == 1 and echoes[0]["event"] == "convo.note.created"
    fs_before, gh_before = len(fs.requests()), len(gh.requests())
    response = signed_delivery(bridge, webhook_body(fs, conv["id"]), "convo.note.created")
    assert response.status_code == 200 and response.json()["reason"] == "own_write_echo"
    assert (len(fs.requests()), len(gh.requests())) == (fs_before, gh_before)


def test_flag_off_is_shadow_mode_and_writes_nothing(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(FLAG_FREESCOUT_GITHUB_AUTOLINK="off")
    conv = fs.email(tags=["bug"])
    fs.wait_idle()
    assert gh.writes() == [] and gh.issues() == []
    assert fs.field(conv["id"]) == "" and fs.bot_notes(conv["id"]) == []
    assert [r["method"] for r in fs.requests()] == ["GET"] * len(fs.requests())
    assert [d["outcome"] for d in bridge.deliveries_logged()] == ["would_link"]


def test_tag_added_later_is_picked_up_on_the_next_event(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    start_bridge()
    conv = fs.email(tags=[])
    fs.wait_idle()
    assert gh.issues() == []
    fs.post(f"/_sim/conversations/{conv['id']}/tags", {"tags": ["Bug"]})  # no webhook for tag changes
    fs.wait_idle()
    assert gh.issues() == []
    fs.post(f"/_sim/conversations/{conv['id']}/customer-reply", {"body": "<p>any news?</p>"})
    fs.wait_idle()
    assert len(gh.issues()) == 1 and fs.field(conv["id"]) == gh.issues()[0]["html_url"]


@pytest.mark.parametrize(
    ("tags", "mailbox", "config_mailboxes"),
    [(["question"], 2, None), (["bug", "_from_github"], 2, None), (["bug"], 2, '["ops@example.com"]')],
    ids=["no-trigger-tag", "from-github", "mailbox-not-configured"],
)
def test_non_matching_conversations_are_left_alone(
    fs: FreeScout,
    gh: GitHub,
    start_bridge: StartBridge,
    tmp_path: Path,
    tags: list[str],
    mailbox: int,
    config_mailboxes: str | None,
) -> None:
    env = {}
    if config_mailboxes:
        config = tmp_path / "bridge.toml"
        config.write_text(f"[autolink]\nmailboxes = {config_mailboxes}\n")
        env["BRIDGE_CONFIG"] = str(config)
    bridge = start_bridge(**env)
    conv = fs.email(tags=tags, mailbox=mailbox)
    fs.wait_idle()
    assert gh.writes() == [] and fs.field(conv["id"]) == ""
    assert all(d["outcome"] == "ignore" for d in bridge.deliveries_logged())


def test_duplicate_and_concurrent_deliveries_create_one_issue(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(register=False)
    conv = fs.email(tags=["bug"])  # no webhook registered: we deliver by hand
    body = webhook_body(fs, conv["id"])
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: signed_delivery(bridge, body, "convo.created"), range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    again = signed_delivery(bridge, body, "convo.created")
    assert again.status_code == 200
    assert len(gh.issues()) == 1
    assert len([r for r in gh.writes() if r["path"].endswith("/issues")]) == 1
    assert len(fs.bot_notes(conv["id"])) == 1
    assert sorted(a.json()["outcome"] for a in answers).count("linked") == 1


def test_lost_create_response_is_finished_not_duplicated(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    gh.fault(method="POST", path=r"/issues$", kind="lost_response", times=1)
    start_bridge()
    conv = fs.email(tags=["bug"])
    fs.wait_idle()
    assert len(gh.issues()) == 1
    assert fs.field(conv["id"]) == gh.issues()[0]["html_url"]
    assert len(fs.bot_notes(conv["id"])) == 1


def test_github_outage_answers_503_and_the_redelivery_links(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge, tmp_path: Path
) -> None:
    # A 502 on create may or may not have written: the bridge then only looks for a while (shortened here).
    config = tmp_path / "bridge.toml"
    config.write_text("[github]\nunsure_write_seconds = 0.5\n")
    gh.fault(method="POST", path=r"/issues$", kind="status", status=502, times=3)
    bridge = start_bridge(BRIDGE_CONFIG=str(config))
    conv = fs.email(tags=["bug"])
    fs.wait_idle()
    statuses = [d["status"] for d in bridge.deliveries_logged() if d.get("conversation_id") == conv["id"]]
    assert 503 in statuses and statuses[-1] == 200
    assert len(gh.issues()) == 1 and fs.field(conv["id"]) == gh.issues()[0]["html_url"]
    retried = [d for d in fs.deliveries() if d.get("event") == "convo.created"]
    assert len(retried) >= 2


def test_secondary_rate_limit_is_honoured_and_answered_with_retry_after(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    gh.fault(method="POST", path=r"/issues$", kind="secondary_limit", retry_after=30, times=1)
    bridge = start_bridge(register=False)
    conv = fs.email(tags=["bug"])
    answer = signed_delivery(bridge, webhook_body(fs, conv["id"]), "convo.created")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "30"
    assert answer.json()["error"] == "budget_exhausted" or answer.json()["error"] == "upstream_unavailable"
    assert gh.get("/_sim/stats").get("violations", 0) == 0
    assert gh.issues() == []


def test_closing_comments_once_per_closure(fs: FreeScout, gh: GitHub, start_bridge: StartBridge) -> None:
    start_bridge()
    conv = fs.email(tags=["bug"])
    fs.wait_idle()
    number = gh.issues()[0]["number"]
    fs.post(f"/_sim/conversations/{conv['id']}/agent-status", {"status": "closed", "userId": 3})
    fs.wait_idle()
    comments = gh.comments(number)
    assert len(comments) == 1 and f"#{conv['number']}" in comments[0] and "resolved" in comments[0]
    closed_delivery = max(i for i, d in enumerate(fs.deliveries()) if d.get("event") == "convo.status")
    fs.post("/_sim/redeliver", {"index": closed_delivery})
    fs.wait_idle()
    assert len(gh.comments(number)) == 1
    assert gh.issues()[0]["state"] == "open"
    fs.post(f"/_sim/conversations/{conv['id']}/agent-status", {"status": "active", "userId": 3})
    fs.post(f"/_sim/conversations/{conv['id']}/agent-status", {"status": "closed", "userId": 3})
    fs.wait_idle()
    assert len(gh.comments(number)) == 2


def test_bad_requests_are_refused_with_json_and_touch_nothing(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(register=False)
    conv = fs.email(tags=["bug"])
    body = webhook_body(fs, conv["id"])
    fs_before = len(fs.requests())
    raw = php_json(body).encode()
    cases = [
        (
            {"X-FreeScout-Event": "convo.created", "X-FreeScout-Signature": sign_freescout(raw, "wrong")},
            raw,
            401,
        ),
        ({"X-FreeScout-Event": "convo.created"}, raw, 401),
        ({"X-FreeScout-Signature": sign_freescout(raw, FS_SECRET)}, raw, 400),
        (
            {
                "X-FreeScout-Event": "convo.created",
                "X-FreeScout-Signature": sign_freescout(b"{nope", FS_SECRET),
            },
            b"{nope",
            400,
        ),
        ({"X-FreeScout-Event": "convo.created", "X-FreeScout-Signature": "x"}, b"x" * (1024 * 1024 + 1), 413),
    ]
    for headers, content, status in cases:
        answer = httpx.post(bridge.webhook_url(), content=content, headers=headers, timeout=10)
        assert answer.status_code == status
        assert set(answer.json()) == {"error", "message"}
    assert len(fs.requests()) == fs_before and gh.requests() == []


def test_unsupported_events_get_2xx_with_the_reason(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(register=False)
    answer = signed_delivery(bridge, {"id": 5, "firstName": "Dana"}, "customer.created")
    assert answer.status_code == 200 and answer.json()["reason"] == "unsupported_event"


def test_bad_github_token_is_a_permanent_failure_naming_the_setting(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(register=False, GITHUB_ISSUE_BOT_TOKEN="wrong-token")
    conv = fs.email(tags=["bug"])
    answer = signed_delivery(bridge, webhook_body(fs, conv["id"]), "convo.created")
    assert answer.status_code == 502
    assert "GITHUB_ISSUE_BOT_TOKEN" in answer.json()["message"]
    line = bridge.deliveries_logged()[-1]
    assert line["outcome"] == "failed" and "GITHUB_ISSUE_BOT_TOKEN" in line["hint"]
    assert "wrong-token" not in "\n".join(bridge.log_lines())


def test_logs_never_carry_secrets_or_customer_email(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge()
    fs.email(tags=["bug"], email="secret.customer@example.org")
    fs.wait_idle()
    text = "\n".join(bridge.log_lines())
    for secret in (FS_SECRET, "fs-sim-api-key", "gh-sim-token", "secret.customer@example.org"):
        assert secret not in text
    assert all(json.loads(line) for line in bridge.log_lines() if line.startswith("{"))


def test_a_linked_ticket_costs_five_upstream_calls(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(register=False)
    conv = fs.email(tags=["bug"])
    body = webhook_body(fs, conv["id"])
    fs.http.delete("/_sim/requests")
    gh.http.delete("/_sim/requests")
    assert signed_delivery(bridge, body, "convo.created").json()["outcome"] == "linked"
    fs_calls = [(r["method"], r["path"]) for r in fs.requests()]
    gh_calls = [(r["method"], r["path"]) for r in gh.requests()]
    assert fs_calls == [
        ("GET", f"/api/conversations/{conv['id']}"),
        ("POST", f"/api/conversations/{conv['id']}/threads"),
        ("PUT", f"/api/conversations/{conv['id']}/custom_fields"),
    ]
    assert gh_calls == [("GET", "/repos/acme/app/issues"), ("POST", "/repos/acme/app/issues")]
    marker_lookup = gh.requests()[0]["query"]
    assert marker_lookup["labels"] == "freescout-linked" and marker_lookup["state"] == "all"


def test_a_hung_github_create_is_answered_503_in_time_and_redelivery_finds_the_issue(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    gh.fault(method="POST", path=r"/issues$", kind="slow", delay=12, times=1)
    bridge = start_bridge(register=False)
    conv = fs.email(tags=["bug"])
    body = webhook_body(fs, conv["id"])
    answer = httpx.post(
        bridge.webhook_url(),
        content=php_json(body).encode(),
        timeout=11.5,
        headers={
            "X-FreeScout-Event": "convo.created",
            "X-FreeScout-Signature": sign_freescout(php_json(body).encode(), FS_SECRET),
        },
    )
    assert answer.status_code == 503 and answer.headers["retry-after"]
    outcomes = []
    for _ in range(40):  # FreeScout's redeliveries, one a second, while the first create may still land
        again = signed_delivery(bridge, body, "convo.created")
        outcomes.append(again.status_code)
        if again.status_code == 200:
            break
        time.sleep(1)
    assert outcomes[-1] == 200
    assert set(outcomes[:-1]) <= {503}
    assert len(gh.issues()) == 1 and fs.field(conv["id"]) == gh.issues()[0]["html_url"]
    assert len(fs.bot_notes(conv["id"])) == 1


def test_github_app_credentials_link_through_an_installation_token(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    from tests.unit.test_settings import rsa_pem

    start_bridge(
        GITHUB_ISSUE_BOT_TOKEN="",
        GITHUB_APP_ID="4242",
        GITHUB_APP_PRIVATE_KEY=rsa_pem(),
        GITHUB_APP_INSTALLATION_ID="777",
    )
    conv = fs.email(tags=["bug"])
    fs.wait_idle()
    assert len(gh.issues()) == 1 and fs.field(conv["id"]) == gh.issues()[0]["html_url"]
    paths = [(r["method"], r["path"]) for r in gh.requests()]
    assert ("POST", "/app/installations/777/access_tokens") in paths


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "primary_limit", "reset_in": 1},
        {"kind": "rate_429", "retry_after": 1},
        {"kind": "reset"},
    ],
    ids=["primary-limit", "429", "connection-reset"],
)
def test_rate_limits_and_resets_on_create_end_with_one_issue_and_no_early_write(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge, tmp_path: Path, fault: dict[str, object]
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text("[github]\nunsure_write_seconds = 0.5\n")
    gh.fault(method="POST", path=r"/issues$", times=1, **fault)
    start_bridge(BRIDGE_CONFIG=str(config))
    conv = fs.email(tags=["bug"])
    fs.wait_idle()
    assert len(gh.issues()) == 1 and fs.field(conv["id"]) == gh.issues()[0]["html_url"]
    assert len(fs.bot_notes(conv["id"])) == 1
    assert gh.get("/_sim/stats")["violations"] == 0
    assert gh.get("/_sim/stats")["faults_fired"] >= 1
