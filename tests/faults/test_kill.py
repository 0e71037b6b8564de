"""kill -9 between any two writes, then a redelivery or a sweep finishes the link; and duplicate storms.

The bridge is stopped at a precise point by a fault on the *next* step's FreeScout endpoint: a ``status``
fault that keeps failing holds it before that write (nothing is performed), a ``hang`` holds it after the
write landed and before the answer. Once the simulator has recorded that request the process gets
SIGKILL. FreeScout does not retry here (one attempt per event), so whatever finishes the link is the
recovery under test: a redelivery of the stored snapshot, the ``freescout-bridge sweep`` CLI in its own
process, or the web process's scheduled sweep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.faults.rig import open_rig, send_copies
from tests.harness import Deployment, wait_for

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class KillPoint:
    name: str
    fault: dict[str, Any]
    issues: int  # what the simulators hold at the moment of the kill
    field_set: bool
    notes: int


KILL_POINTS = [
    KillPoint(
        "after-create-before-note",
        {"method": "POST", "path": r"/threads$", "kind": "status", "status": 503, "times": 0},
        issues=1,
        field_set=False,
        notes=0,
    ),
    KillPoint(
        "after-note-before-field",
        {"method": "PUT", "path": r"/custom_fields$", "kind": "status", "status": 503, "times": 0},
        issues=1,
        field_set=False,
        notes=1,
    ),
    KillPoint(
        "after-field-before-answer",
        {"method": "PUT", "path": r"/custom_fields$", "kind": "hang", "delay": 2.0, "times": 1},
        issues=1,
        field_set=True,
        notes=1,
    ),
]
RECOVERIES = ["redeliver", "sweep-cli", "scheduled-sweep"]
CASES = [
    pytest.param(
        point,
        recovery,
        id=f"{point.name}-{recovery}",
    )
    for point in KILL_POINTS
    for recovery in RECOVERIES
]


@pytest.fixture
def no_retry_rig(tmp_path: Path) -> Iterator[Deployment]:
    """FreeScout makes one attempt per event: only the recovery under test can finish a link."""
    with open_rig(tmp_path, retry_delays=()) as rig:
        yield rig


def _recorded(rig: Deployment, method: str, suffix: str) -> bool:
    return any(r["method"] == method and r["path"].endswith(suffix) for r in rig.fs.requests())


@pytest.mark.parametrize(("point", "recovery"), CASES)
def test_kill9_between_writes_is_finished_once(
    no_retry_rig: Deployment, point: KillPoint, recovery: str
) -> None:
    rig = no_retry_rig
    bridge = rig.start_bridge()
    rig.fs.fault(**point.fault)
    conversation_id = int(rig.fs.email(subject=f"kill {point.name}", tags=["bug"])["id"])
    method = point.fault["method"]
    suffix = "/custom_fields" if "custom_fields" in point.fault["path"] else "/threads"
    wait_for(lambda: _recorded(rig, method, suffix), what="the request at the kill point")
    bridge.kill9()

    held = (len(rig.gh.issues_for(conversation_id)), rig.fs.field(conversation_id) != "")
    assert held == (point.issues, point.field_set)
    assert len(rig.fs.bot_notes(conversation_id)) == point.notes
    rig.clear_faults()
    rig.settle()  # the killed delivery is dropped: FreeScout made its one attempt

    if recovery == "redeliver":
        bridge.start()  # same port: FreeScout's webhook URL still points at it
        first = next(d["index"] for d in rig.fs.deliveries() if d["event"] == "convo.created")
        assert rig.fs.post("/_sim/redeliver", {"index": first})["status"] == 200
    elif recovery == "sweep-cli":
        report = rig.sweep()
        assert report["exit_code"] == 0
    else:
        rig.start_bridge(register=False, SWEEP_INTERVAL_SECONDS="1")
        wait_for(
            lambda: rig.fs.field(conversation_id) != "" and len(rig.fs.bot_notes(conversation_id)) == 1,
            timeout=10,
            what="the scheduled sweep (every second) finishing the link",
        )
    rig.settle()

    issues = rig.gh.issues_for(conversation_id)
    assert len(issues) == 1
    assert rig.fs.field(conversation_id) == issues[0]["html_url"]
    assert len(rig.fs.bot_notes(conversation_id)) == 1
    assert rig.gh.violations() == 0


#: 50 copies of one delivery sent at the same instant, 20 times over (a fresh conversation each trial).
COPIES = 50
TRIALS = 20


async def _storms(rig: Deployment, url: str) -> list[int]:
    """One storm per trial, on a fresh conversation; returns the conversation ids."""
    conversations = []
    for trial in range(TRIALS):
        conversation_id = int(rig.fs.email(subject=f"storm {trial}", tags=["bug"])["id"])
        raw, headers = rig.signed_webhook(conversation_id)
        assert await send_copies(url, raw, headers, COPIES) == [200] * COPIES
        conversations.append(conversation_id)
    return conversations


def test_fifty_identical_deliveries_at_once_link_one_issue(rig: Deployment) -> None:
    bridge = rig.start_bridge(register=False)  # no webhook: the test sends the copies itself
    for conversation_id in asyncio.run(_storms(rig, bridge.webhook_url())):
        issues = rig.gh.issues_for(conversation_id)
        assert len(issues) == 1
        assert rig.fs.field(conversation_id) == issues[0]["html_url"]
        assert len(rig.fs.bot_notes(conversation_id)) == 1
    linked = [d for d in bridge.deliveries_logged() if d.get("outcome") == "linked"]
    assert len(linked) == TRIALS
    assert set(rig.gh.markers_per_conversation().values()) == {1}
    assert rig.gh.violations() == 0
