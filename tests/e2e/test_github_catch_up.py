"""The catch-up pass end to end: GitHub never retries a delivery, so the sweep finishes what was lost.

A close while the bridge was down, a fan-out cut by ``kill -9`` between two notes, and a fan-out that
FreeScout failed half-way are each finished by the web process's scheduled sweep, with no note lost or
doubled.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.github_rig import (
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
from tests.harness import ROOT, Bridge, FreeScout, GitHub

pytestmark = pytest.mark.e2e
StartBridge = Callable[..., Bridge]


def catch_up_lines(bridge: Bridge) -> list[str]:
    return [line for line in bridge.log_lines() if '"msg":"catch_up"' in line]


def short_doubt_config(tmp_path: Path) -> str:
    """The shipped config with a 1 s FreeScout in-doubt window, so a same-process retry is not held 90 s."""
    text = (ROOT / "config" / "bridge.toml").read_text(encoding="utf-8")
    path = tmp_path / "bridge.toml"
    path.write_text(text.replace("freescout_seconds = 90", "freescout_seconds = 1"), encoding="utf-8")
    return str(path)


def test_a_close_while_the_bridge_was_down_is_caught_up(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET)
    tickets = [ticket(fs), ticket(fs, "active")]
    issue = link_issue(fs, gh, tickets)
    hook(gh, bridge)
    gh.post("/_sim/hooks/pause", {"paused": True})  # the receiver is unreachable: GitHub records a failure
    gh.post(f"/_sim/issues/{issue.number}/close", {"user": "dev"})
    assert [d["status_code"] for d in deliveries(gh, "issues")] == [None]
    assert all(notices(fs, cid) == [] for cid in tickets)
    later = start_bridge(register=False, GITHUB_WEBHOOK_SECRET=SECRET, SWEEP_INTERVAL_SECONDS="0.5")
    key = close_key(gh, issue.number)
    wait_until(lambda: all(notices(fs, cid) == [key] for cid in tickets), "the catch-up")
    wait_until(lambda: len(catch_up_lines(later)) >= 2, "a second catch-up pass")
    fs.wait_idle()
    assert all(notices(fs, cid) == [key] for cid in tickets)
    assert fs.conversation(tickets[0])["status"] == "active"
    assert '"unchanged":1' in catch_up_lines(later)[-1]  # a settled issue is not read again until it changes


def test_kill_9_between_two_notes_then_catch_up_loses_and_doubles_none(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge, tmp_path: Path
) -> None:
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET)
    tickets = [ticket(fs) for _ in range(3)]
    issue = link_issue(fs, gh, tickets)
    hook(gh, bridge)
    # The first note lands; the second is stored with its answer held; the third never lands. The bridge
    # dies while it waits for the second: between two notes, with one ticket still to do.
    fs.post(
        "/_sim/faults",
        [
            {"method": "POST", "path": "/threads$", "kind": "hang", "delay": 30, "skip": 1},
            {"method": "POST", "path": "/threads$", "kind": "reset", "skip": 1, "times": 0},
        ],
    )
    gh.post(f"/_sim/issues/{issue.number}/close", {"user": "dev"})
    fired = lambda: [f["fired"] for f in fs.get("/_sim/faults")["faults"]]  # noqa: E731
    wait_until(lambda: fired()[0] == 1 and fired()[1] >= 1, "the second and third notes")
    bridge.kill9()
    assert sorted(len(notices(fs, cid)) for cid in tickets) == [0, 1, 1]
    fs.http.delete("/_sim/faults")
    bridge.env["SWEEP_INTERVAL_SECONDS"] = "0.5"
    bridge.start()  # a new process on the same port, so FreeScout's webhook still reaches it
    key = close_key(gh, issue.number)
    wait_until(lambda: all(notices(fs, cid) == [key] for cid in tickets), "the catch-up")
    wait_until(lambda: len(catch_up_lines(bridge)) >= 2, "a second catch-up pass")
    assert all(notices(fs, cid) == [key] for cid in tickets)
    assert all(fs.conversation(cid)["status"] == "active" for cid in tickets)


def test_freescout_failing_mid_way_is_finished_by_the_catch_up(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge, tmp_path: Path
) -> None:
    config = short_doubt_config(tmp_path)
    bridge = start_bridge(GITHUB_WEBHOOK_SECRET=SECRET, BRIDGE_CONFIG=config)
    tickets = [ticket(fs) for _ in range(3)]
    issue = link_issue(fs, gh, tickets)
    hook(gh, bridge)
    fs.post(
        "/_sim/faults",
        {"method": "POST", "path": "/threads$", "kind": "status", "status": 503, "skip": 1, "times": 0},
    )
    gh.post(f"/_sim/issues/{issue.number}/close", {"user": "dev"})
    wait_until(lambda: len(fan_outs(bridge)) == 1, "the failing fan-out")
    (line,) = fan_outs(bridge)
    assert line["state"] == "failed" and line["tickets"] == {"updated": 1, "failed": 2}
    key = close_key(gh, issue.number)
    assert sorted(len(notices(fs, cid)) for cid in tickets) == [0, 0, 1]
    fs.http.delete("/_sim/faults")
    bridge.stop()
    later = start_bridge(
        register=False, GITHUB_WEBHOOK_SECRET=SECRET, BRIDGE_CONFIG=config, SWEEP_INTERVAL_SECONDS="0.5"
    )
    wait_until(lambda: all(notices(fs, cid) == [key] for cid in tickets), "the catch-up")
    wait_until(lambda: len(catch_up_lines(later)) >= 2, "a second catch-up pass")
    assert all(notices(fs, cid) == [key] for cid in tickets)
