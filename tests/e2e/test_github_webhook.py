"""GitHub → FreeScout through the web transport, end to end: the real bridge under uvicorn, the GitHub
simulator sending signed webhooks, the FreeScout simulator receiving the notes (and echoing them back).

Every ticket gets exactly one note per GitHub event, whatever the redeliveries, concurrent deliveries and
echoes; unsigned or mis-signed deliveries write nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bridge.signature import sign_github
from bridge.vocab import comment_notice_key, reopened_notice_key
from tests.e2e.github_rig import (
    BOT,
    SECRET,
    close_key,
    deliveries,
    fan_outs,
    github_writes,
    hook,
    link_issue,
    note_with,
    notices,
    ticket,
    wait_until,
)
from tests.harness import REPO, Bridge, FreeScout, GitHub

pytestmark = pytest.mark.e2e
StartBridge = Callable[..., Bridge]


def status(fs: FreeScout, cid: int) -> str:
    return str(fs.conversation(cid)["status"])


def settled(bridge: Bridge, passes: int) -> Callable[[], bool]:
    return lambda: len(fan_outs(bridge)) >= passes


def test_a_close_as_completed_reaches_every_linked_ticket_once(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET)
    pending, active, closed = ticket(fs, "pending"), ticket(fs, "active"), ticket(fs, "closed")
    issue = link_issue(fs, gh, [pending, active, closed])
    hook(gh, bridge)
    before = len(bridge.deliveries_logged())
    gh.post(f"/_sim/issues/{issue.number}/close", {"user": "dev", "commit_id": "a1b2c3d4e5f6a7b8c9d0"})
    gh.post("/_sim/hooks/wait-idle")
    wait_until(settled(bridge, 1), "the fan-out")
    fs.wait_idle()  # the bridge's notes and status change echo back to it
    key = close_key(gh, issue.number)
    for cid in issue.tickets:
        assert notices(fs, cid) == [key]
    assert (status(fs, pending), status(fs, active), status(fs, closed)) == ("active", "active", "closed")
    note = note_with(fs, pending, key)
    assert "closed as completed" in note and "a1b2c3d" in note and "@dev" in note
    (close,) = deliveries(gh, "issues")
    assert close["status_code"] == 202 and close["answer"]["outcome"] == "accepted"
    assert github_writes(gh) == []  # no echo made the bridge write to GitHub ("resolved" comment or other)
    echoes = [d for d in bridge.deliveries_logged()[before:] if d.get("conversation_id") in issue.tickets]
    assert echoes and {d["reason"] for d in echoes} <= {"own_write_echo", "already_linked"}


@pytest.mark.parametrize("reason", ["not_planned", "duplicate"])
def test_a_close_not_planned_writes_a_note_and_leaves_the_status(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge, reason: str
) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET)
    cid = ticket(fs, "pending")
    issue = link_issue(fs, gh, [cid])
    hook(gh, bridge)
    gh.post(f"/_sim/issues/{issue.number}/close", {"user": "dev", "state_reason": reason})
    wait_until(settled(bridge, 1), "the fan-out")
    key = close_key(gh, issue.number)
    assert notices(fs, cid) == [key]
    assert status(fs, cid) == "pending"
    assert reason.replace("_", " ") in note_with(fs, cid, key)


def test_reopen_and_support_comment_each_write_one_note_with_inert_text(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET)
    tickets = [ticket(fs), ticket(fs)]
    issue = link_issue(fs, gh, tickets)
    hook(gh, bridge)
    gh.post(f"/_sim/issues/{issue.number}/close", {"user": "dev"})
    wait_until(settled(bridge, 1), "the close")
    closed = close_key(gh, issue.number)
    closed_at = str(gh.issue(issue.number)["closed_at"])
    gh.post(f"/_sim/issues/{issue.number}/reopen", {"user": "dev"})
    wait_until(settled(bridge, 2), "the reopen")
    text = "/support Fixed in 4.2 <script>alert(1)</script> <b>bold</b>"
    comment = gh.post(f"/_sim/issues/{issue.number}/comments", {"user": "dev", "body": text})
    gh.post(f"/_sim/issues/{issue.number}/comments", {"user": "dev", "body": "not for support"})
    wait_until(settled(bridge, 3), "the /support comment")
    reopened = reopened_notice_key(REPO, issue.number, closed_at)
    said = comment_notice_key(REPO, issue.number, int(comment["id"]))
    for cid in tickets:
        assert notices(fs, cid) == [closed, reopened, said]
        body = note_with(fs, cid, said)
        assert "<script>" not in body and "<b>bold" not in body and "&lt;script&gt;" in body
    ignored = [
        d for d in bridge.deliveries_logged() if d.get("route") == "github" and d["outcome"] == "ignore"
    ]
    assert {d["reason"] for d in ignored} == {"not_for_support"}


def test_deleted_and_spam_tickets_are_skipped_and_logged(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET)
    kept, deleted, spam = ticket(fs), ticket(fs), ticket(fs)
    issue = link_issue(fs, gh, [kept, deleted, spam])
    fs.post(f"/_sim/conversations/{deleted}/delete", {})
    fs.post(f"/_sim/conversations/{spam}/agent-status", {"status": "spam"})
    hook(gh, bridge)
    gh.post(f"/_sim/issues/{issue.number}/close", {"user": "dev"})
    wait_until(settled(bridge, 1), "the fan-out")
    assert notices(fs, kept) == [close_key(gh, issue.number)]
    assert notices(fs, deleted) == notices(fs, spam) == []
    (line,) = fan_outs(bridge)
    assert line["tickets"] == {"updated": 1, "skipped": 2}


def test_redelivered_and_concurrent_deliveries_write_each_note_once(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET)
    tickets = [ticket(fs), ticket(fs), ticket(fs)]
    issue = link_issue(fs, gh, tickets)
    hook(gh, bridge)
    gh.post(f"/_sim/issues/{issue.number}/close", {"user": "dev"})
    gh.post("/_sim/hooks/wait-idle")
    (close,) = deliveries(gh, "issues")
    # Eight copies at once while the first fan-out may still run, then one more after it is done.
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: gh.post(f"/_sim/hooks/deliveries/{close['guid']}/redeliver"), range(8)))
    gh.post("/_sim/hooks/wait-idle")
    wait_until(settled(bridge, 1), "the fan-out")
    gh.post(f"/_sim/hooks/deliveries/{close['guid']}/redeliver")
    gh.post("/_sim/hooks/wait-idle")
    (close,) = deliveries(gh, "issues")
    assert close["attempts"] == 10 and close["answer"]["outcome"] == "duplicate"
    key = close_key(gh, issue.number)
    fs.wait_idle()
    for cid in tickets:
        assert notices(fs, cid) == [key]
    assert len(fan_outs(bridge)) == 1


def test_unsigned_or_mis_signed_deliveries_write_nothing(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET)
    cid = ticket(fs)
    issue = link_issue(fs, gh, [cid])
    hook(gh, bridge, secret="not-the-secret")
    gh.post(f"/_sim/issues/{issue.number}/close", {"user": "dev"})
    gh.post("/_sim/hooks/wait-idle")
    (close,) = deliveries(gh, "issues")
    assert close["status_code"] == 401 and close["answer"]["error"] == "signature_mismatch"
    body = b'{"action":"closed"}'
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-1", "Content-Type": "application/json"}
    url = f"{bridge.url}/api/webhooks/github"
    unsigned = httpx.post(url, content=body, headers=headers)
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "signature_missing"
    form_body = b"payload=%7B%7D"
    form_headers = {
        **headers,
        "X-Hub-Signature-256": sign_github(form_body, SECRET),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    form = httpx.post(url, content=form_body, headers=form_headers)
    assert form.status_code == 415 and "application/json" in form.json()["message"]
    assert notices(fs, cid) == [] and fan_outs(bridge) == []


def test_ping_is_answered_and_the_route_is_off_without_a_secret(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    on = start_bridge(GITHUB_WEBHOOK_SECRET=f"old-secret,{SECRET}")
    hook(gh, on)
    (ping,) = deliveries(gh, "ping")
    assert ping["status_code"] == 200 and ping["answer"]["outcome"] == "pong"
    off = start_bridge(register=False)
    answer = httpx.post(f"{off.url}/api/webhooks/github", content=b"{}")
    assert answer.status_code == 404 and "GITHUB_WEBHOOK_SECRET" in answer.json()["message"]


def test_shadow_mode_logs_what_would_be_written(fs: FreeScout, gh: GitHub, start_bridge: StartBridge) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET, FLAG_FREESCOUT_GITHUB_AUTOLINK="false")
    cid = ticket(fs)
    issue = link_issue(fs, gh, [cid])
    hook(gh, bridge)
    gh.post(f"/_sim/issues/{issue.number}/close", {"user": "dev"})
    wait_until(settled(bridge, 1), "the fan-out")
    assert notices(fs, cid) == [] and status(fs, cid) == "pending"
    lines = [line for line in bridge.log_lines() if '"return_path_ticket"' in line]
    assert any(
        '"would_update"' in line and "set_status:active" in line and "add_note:closed:" in line
        for line in lines
    )
    assert BOT == 9
