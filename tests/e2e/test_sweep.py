"""The reconciler end to end: what webhooks cannot deliver, the sweep links, once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from tests.harness import EVENTS, NOWHERE, ROOT, Bridge, Deployment, FreeScout, GitHub, wait_for

pytestmark = pytest.mark.e2e
StartBridge = Callable[..., Bridge]


def test_scheduled_sweep_links_a_tag_added_without_any_event(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    start_bridge(SWEEP_INTERVAL_SECONDS="0.5")
    conv = fs.email(tags=[])
    fs.wait_idle()
    fs.post(
        f"/_sim/conversations/{conv['id']}/tags", {"tags": ["feature_request"]}
    )  # FreeScout sends nothing
    wait_for(lambda: fs.field(conv["id"]) != "")
    assert gh.markers_per_conversation() == {conv["id"]: 1}
    assert [label["name"] for label in gh.issues()[0]["labels"]] == ["freescout-linked", "enhancement"]
    assert len(fs.bot_notes(conv["id"])) == 1


def test_sweep_links_what_freescout_gave_up_on_during_a_bridge_outage(
    deployment: Deployment, fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    fs.register_webhook(f"{NOWHERE}/api/webhooks/freescout/support", EVENTS)
    conv = fs.email(tags=["bug"])
    fs.wait_idle()  # ten failed attempts, then FreeScout drops the event
    attempts = [d for d in fs.deliveries() if d.get("event") == "convo.created"]
    assert len(attempts) == 10 and attempts[-1]["dropped"]
    bridge = start_bridge(register=False)
    deployment.sweep()
    assert fs.field(conv["id"]) == gh.issues()[0]["html_url"]
    assert gh.markers_per_conversation() == {conv["id"]: 1}
    assert bridge.deliveries_logged() == []


def test_sweep_racing_webhooks_in_one_process_yields_one_issue_each(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    start_bridge(SWEEP_INTERVAL_SECONDS="0.2")
    ids = [fs.email(subject=f"Crash {n}", tags=["bug"])["id"] for n in range(6)]
    fs.wait_idle()
    wait_for(lambda: all(fs.field(cid) for cid in ids))
    time.sleep(0.5)  # let one more sweep pass run over the linked conversations
    assert gh.markers_per_conversation() == dict.fromkeys(ids, 1)
    assert all(len(fs.bot_notes(cid)) == 1 for cid in ids)


def test_two_concurrent_sweeps_on_one_host_take_turns(
    deployment: Deployment, fs: FreeScout, gh: GitHub
) -> None:
    ids = [fs.email(subject=f"Bug {n}", tags=["bug"])["id"] for n in range(4)]  # no webhook registered
    env = deployment.env
    sweeps = [
        subprocess.Popen(
            [sys.executable, "-m", "bridge", "sweep", "--json"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in sweeps]
    assert all(p.returncode == 0 for p in sweeps), outputs
    assert gh.markers_per_conversation() == dict.fromkeys(ids, 1)
    assert all(fs.field(cid) for cid in ids)


def test_flag_off_sweep_only_reports(deployment: Deployment, fs: FreeScout, gh: GitHub) -> None:
    conv = fs.email(tags=["bug"])
    done = deployment.cli("sweep", FLAG_FREESCOUT_GITHUB_AUTOLINK="false")
    assert done.returncode == 0, done.stderr
    assert gh.writes() == [] and fs.field(conv["id"]) == ""
    assert all(r["method"] == "GET" for r in fs.requests())


def test_sweep_never_links_a_ticket_an_agent_unlinked(
    deployment: Deployment, fs: FreeScout, gh: GitHub
) -> None:
    kept, unlinked = (fs.email(subject=f"Bug {n}", tags=["bug"])["id"] for n in range(2))  # no webhook
    field_id = next(
        f["id"] for f in fs.conversation(unlinked)["customFields"] if f["name"] == "github_issue_url"
    )
    fs.post(
        f"/_sim/conversations/{unlinked}/custom-fields",
        {"customFields": [{"id": field_id, "value": "unlinked"}]},
    )
    deployment.sweep()  # the deployment's own TMPDIR: this test's own host sweep lock
    assert gh.markers_per_conversation() == {kept: 1}
    assert fs.field(unlinked) == "unlinked" and fs.bot_notes(unlinked) == []
