"""No ping-pong between GitHub and FreeScout through the web transport, each lock shown alone.

GitHub side: the bridge's own comments come back as ``issue_comment.created``. The hidden marker stops them
with no login configured; ``GITHUB_BRIDGE_LOGIN`` stops a comment from the bridge's account even without a
marker. FreeScout side: the bridge's notes and status changes come back as ``convo.note.created`` /
``convo.status``. The echo lock answers them from the payload; the fresh-state lock alone stops a stale
``closed`` payload from producing a "resolved" comment once the bridge has set the ticket active; an agent's
close afterwards produces exactly one.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from bridge.vocab import demand_marker, link_record_marker
from tests.e2e.github_rig import (
    BRIDGE_LOGIN,
    SECRET,
    close_key,
    deliveries,
    fan_outs,
    hook,
    link_issue,
    notices,
    ticket,
    wait_until,
)
from tests.harness import GH_TOKEN, REPO, Bridge, FreeScout, GitHub

pytestmark = pytest.mark.e2e
StartBridge = Callable[..., Bridge]


def as_bridge(gh: GitHub, number: int, body: str) -> None:
    """A comment through the REST API with the bridge's token, as the bridge itself posts them."""
    path = f"/repos/{REPO}/issues/{number}/comments"
    gh.http.post(path, json={"body": body}, headers={"Authorization": f"token {GH_TOKEN}"}).raise_for_status()


def github_answers(gh: GitHub) -> list[tuple[int, str, str]]:
    return [
        (d["status_code"], d["answer"]["outcome"], d["answer"]["reason"])
        for d in deliveries(gh, "issue_comment")
    ]


def resolved_comments(gh: GitHub, number: int) -> list[str]:
    return [c for c in gh.comments(number) if "resolved" in c and "closed conversation=" in c]


@pytest.mark.parametrize("login", ["", BRIDGE_LOGIN])
def test_the_bridges_own_comments_write_nothing_with_the_marker_alone_or_with_the_login(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge, login: str
) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET, GITHUB_BRIDGE_LOGIN=login)
    cid = ticket(fs)
    issue = link_issue(fs, gh, [cid])
    hook(gh, bridge)
    fs.post(f"/_sim/conversations/{cid}/agent-status", {"status": "closed"})  # Direction A's close comment
    fs.wait_idle()
    as_bridge(gh, issue.number, f"{link_record_marker('link', 4242, 77)}\nFreeScout ticket #4242 now waits.")
    as_bridge(gh, issue.number, f"{demand_marker()}\n/support 2 FreeScout tickets wait on this issue")
    gh.post("/_sim/hooks/wait-idle")
    expected = "own_comment" if login else "bridge_comment"
    assert github_answers(gh) == [(200, "ignore", expected)] * 3
    assert len(resolved_comments(gh, issue.number)) == 1
    assert notices(fs, cid) == [] and fan_outs(bridge) == []


def test_the_login_alone_stops_a_comment_of_the_bridges_account_without_a_marker(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET, GITHUB_BRIDGE_LOGIN=BRIDGE_LOGIN)
    cid = ticket(fs)
    issue = link_issue(fs, gh, [cid])
    hook(gh, bridge)
    as_bridge(gh, issue.number, "/support this would otherwise reach every ticket")
    gh.post("/_sim/hooks/wait-idle")
    assert github_answers(gh) == [(200, "ignore", "own_comment")]
    assert notices(fs, cid) == [] and fan_outs(bridge) == []


def test_activating_after_a_github_close_never_resolves_and_a_later_close_resolves_once(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET)
    cid = ticket(fs, "pending")
    issue = link_issue(fs, gh, [cid])
    hook(gh, bridge)
    # An agent closed the ticket once, then set it pending to wait on engineering: one "resolved" comment.
    fs.post(f"/_sim/conversations/{cid}/agent-status", {"status": "closed"})
    fs.wait_idle()
    stale = max(
        i for i, d in enumerate(fs.deliveries()) if d["event"] == "convo.status"
    )  # as FreeScout sent it
    fs.post(f"/_sim/conversations/{cid}/agent-status", {"status": "pending"})
    fs.wait_idle()
    assert len(resolved_comments(gh, issue.number)) == 1
    assert json.loads(fs.deliveries()[stale]["body"])["status"] == "closed"

    gh.post(f"/_sim/issues/{issue.number}/close", {"user": "dev"})
    wait_until(lambda: len(fan_outs(bridge)) == 1, "the fan-out")
    fs.wait_idle()
    assert fs.conversation(cid)["status"] == "active" and notices(fs, cid) == [close_key(gh, issue.number)]
    echoes = [d for d in bridge.deliveries_logged() if d.get("conversation_id") == cid][-2:]
    assert {(d["_event"] if "_event" in d else d.get("event"), d["reason"]) for d in echoes} == {
        ("convo.status", "own_write_echo"),
        ("convo.note.created", "own_write_echo"),
    }
    assert len(resolved_comments(gh, issue.number)) == 1  # setting active resolved nothing

    # The fresh-state lock alone: a stale payload that says closed reaches the bridge after the activation.
    fs.post("/_sim/redeliver", {"index": stale})
    stale_answer = bridge.deliveries_logged()[-1]
    assert (stale_answer["outcome"], stale_answer["reason"]) == ("ignore", "no_longer_closed")
    assert len(resolved_comments(gh, issue.number)) == 1

    # An agent's close after that: exactly one more, and its echo on GitHub writes nothing to FreeScout.
    fs.post(f"/_sim/conversations/{cid}/agent-status", {"status": "closed"})
    fs.wait_idle()
    gh.post("/_sim/hooks/wait-idle")
    assert len(resolved_comments(gh, issue.number)) == 2
    assert github_answers(gh)[-1] == (200, "ignore", "bridge_comment")
    assert notices(fs, cid) == [close_key(gh, issue.number)] and len(fan_outs(bridge)) == 1
    assert httpx.get(f"{bridge.url}/healthz").status_code == 200
