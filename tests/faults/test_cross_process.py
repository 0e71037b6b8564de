"""A sweep started in another process while the web process handles webhooks still ends with one issue.

The web process's per-conversation lock cannot reach into a ``freescout-bridge sweep`` process, and the
marker look-up only finds issues that already exist. So the command hands its pass to the web process
(``BRIDGE_URL`` + ``BRIDGE_ADMIN_TOKEN``, ``POST /admin/sweep``), which runs it under the same locks as its
webhooks; two such commands share one pass. A pass forced into its own process (``--local``) keeps the
race when it is not told where the web process is (no ``BRIDGE_URL``; with it, ``--local`` is refused
while the web process answers), pinned down here as a strict xfail and documented in
runbooks/deploy.md section 4.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.rig import bridge_config, open_rig
from tests.harness import Deployment, wait_for

pytestmark = pytest.mark.e2e

CREATE_TAKES = 12.0  # seconds the webhook's POST /issues spends at GitHub (the sweep CLI needs 1-3 s)
ADMIN_TOKEN = "admin-token-cross-process-4d1e"
ISSUES_PATH = r"^/repos/acme/app/issues$"


@pytest.fixture
def patient_rig(tmp_path: Path) -> Iterator[Deployment]:
    """The web process waits out the slow create instead of timing out (GitHub client timeout 30 s)."""
    with open_rig(tmp_path, config=bridge_config(gh_timeout=30)) as rig:
        yield rig


def creates_sent(rig: Deployment) -> int:
    return sum(r["method"] == "POST" and r["path"].endswith("/issues") for r in rig.gh.requests())


def raced_conversation(rig: Deployment) -> int:
    """A tagged ticket whose webhook create is held at GitHub; returns once that create is in flight."""
    rig.gh.fault(method="POST", path=ISSUES_PATH, kind="slow", delay=CREATE_TAKES)
    conversation_id = int(rig.fs.email(subject="raced", tags=["bug"])["id"])
    wait_for(lambda: creates_sent(rig) >= 1, what="the webhook's create reaching GitHub")
    return conversation_id


def assert_linked_once(rig: Deployment, conversation_id: int) -> None:
    issues = rig.gh.issues_for(conversation_id)
    assert len(issues) == 1, f"{len(issues)} issues for one conversation"
    assert rig.fs.field(conversation_id) == issues[0]["html_url"]
    assert len(rig.fs.bot_notes(conversation_id)) == 1


def test_sweep_process_racing_an_in_flight_webhook_create_opens_one_issue(patient_rig: Deployment) -> None:
    """The sweep command hands the pass to the web process, whose lock waits for the webhook's create."""
    rig = patient_rig
    bridge = rig.start_bridge(BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN)
    conversation_id = raced_conversation(rig)
    report = rig.sweep(BRIDGE_URL=bridge.url, BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN)  # create still in flight
    rig.settle()

    assert report["via"] == bridge.url and report["joined"] is False
    # The pass waits for the webhook's lock; it finds the link done, or finishes it (the delivery answers
    # FreeScout at its 9.5 s deadline while the create goes on) with the issue the webhook created.
    assert report["candidates"] == 1 and report["outcomes"] in ({"ignore": 1}, {"linked": 1}), report
    assert_linked_once(rig, conversation_id)
    assert creates_sent(rig) == 1


@pytest.mark.xfail(
    strict=True,
    reason="known, documented limitation: with no BRIDGE_URL to probe, a --local sweep cannot tell that the "
    "web process is up, and cannot see a create still in flight there, so both create (runbooks/deploy.md "
    "section 4: --local only when the web process is down; with BRIDGE_URL set it is refused)",
)
def test_local_sweep_process_racing_an_in_flight_webhook_create_opens_one_issue(
    patient_rig: Deployment,
) -> None:
    rig = patient_rig
    bridge = rig.start_bridge(BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN)
    conversation_id = raced_conversation(rig)
    assert bridge.url  # up, but this command is not told where (no BRIDGE_URL)
    report = rig.sweep("--local")
    rig.settle()

    assert report["via"] == "local"
    assert_linked_once(rig, conversation_id)


def test_two_sweep_processes_share_the_web_process_pass_and_link_each_ticket_once(
    patient_rig: Deployment,
) -> None:
    """The second command joins the pass the first one started; no webhooks, so the sweep does every link."""
    rig = patient_rig
    bridge = rig.start_bridge(register=False, BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN)
    ids = [int(rig.fs.email(subject=f"Crash {n}", tags=["bug"])["id"]) for n in range(3)]
    rig.gh.fault(method="POST", path=ISSUES_PATH, kind="slow", delay=4.0)  # keeps the pass running
    env = {**rig.env, "BRIDGE_URL": bridge.url, "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN}

    def sweep_process() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "bridge", "sweep", "--json"],
            env=env,
            cwd=rig.tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = sweep_process()
    wait_for(lambda: creates_sent(rig) >= 1, what="the first pass's first create reaching GitHub")
    second = sweep_process()
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    reports = [json.loads(out) for out, _err in outputs]
    rig.settle()

    assert reports[0]["sweep_id"] == reports[1]["sweep_id"]
    assert [r["joined"] for r in reports] == [False, True]
    for report in reports:
        assert report["via"] == bridge.url
        assert report["candidates"] == 3 and report["outcomes"] == {"linked": 3}, report
    assert rig.gh.markers_per_conversation() == dict.fromkeys(ids, 1)
    for cid in ids:
        assert_linked_once(rig, cid)
    started = [json.loads(line) for line in bridge.log_lines() if '"sweep_started"' in line]
    assert len(started) == 1, started
