"""Every upstream step of a link, crossed with every kind of upstream failure, ends in exactly one link.

One real bridge process serves the whole module; each case files a fresh conversation through the
FreeScout simulator (real signed webhooks, real retries on a compressed schedule), injects one fault on
one step with ``times`` so that it clears by itself, waits until everything is delivered and answered,
and then checks the end state: one issue carrying the conversation's marker, the field set to its URL,
one bot note, one closing comment for the closing steps, and no GitHub write inside a retry-after window.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.freescout_state import DEFAULT_RETRY_DELAYS
from tests.faults.rig import bridge_config, open_rig
from tests.harness import Deployment

pytestmark = pytest.mark.e2e

#: Client timeouts of the bridge in this module (production: 5 s each); ``slow`` waits longer.
FS_TIMEOUT = 0.5
GH_TIMEOUT = 1
SLOW = 2.0
#: A create, comment or note that failed ambiguously is only looked for during this window; it must
#: outlast ``SLOW - FS_TIMEOUT`` so that a slow write lands before the bridge may write again.
UNSURE = 3.0


@dataclass(frozen=True)
class Step:
    name: str
    api: str
    operation: str  # the bridge's name for the call, as in its metrics
    method: str
    path: str
    closing: bool = False


STEPS = (
    Step("fs-get-conversation", "freescout", "get_conversation", "GET", r"^/api/conversations/\d+$"),
    Step("gh-marker-lookup", "github", "find_linked_issue", "GET", r"^/repos/acme/app/issues$"),
    Step("gh-create-issue", "github", "create_issue", "POST", r"^/repos/acme/app/issues$"),
    Step("fs-set-field", "freescout", "set_custom_field", "PUT", r"/custom_fields$"),
    Step("fs-post-note", "freescout", "add_thread", "POST", r"/threads$"),
    Step("gh-list-comments", "github", "list_comments", "GET", r"/issues/\d+/comments$", closing=True),
    Step("gh-post-comment", "github", "create_comment", "POST", r"/issues/\d+/comments$", closing=True),
)

FAULTS: dict[str, dict[str, Any]] = {
    "5xx": {"kind": "status", "status": 502},
    "timeout": {"kind": "slow", "delay": SLOW},
    "reset": {"kind": "reset"},
    "429": {"kind": "rate_429", "retry_after": 1},
    "secondary-403": {"kind": "secondary_limit", "retry_after": 1},
    "lost-response": {"kind": "lost_response"},
}


def times(step: Step, fault: str) -> int:
    """How many requests the fault hits before it clears by itself.

    Five outlast the four tries of one delivery, so the bridge answers 503 and FreeScout's redelivery
    finishes the link. Where each hit costs a client timeout or a retry-after, two. A create, comment or
    note that fails ambiguously is only looked for during ``UNSURE`` afterwards (503 meanwhile), so one hit
    on a POST already spans deliveries.
    """
    if fault in ("timeout", "429", "secondary-403"):
        return 2
    return 1 if step.method == "POST" else 5


CASES = [
    pytest.param(step, name, id=f"{step.name}-{name}")
    for step in STEPS
    for name in FAULTS
    if not (name == "secondary-403" and step.api == "freescout")
]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp: Path = tmp_path_factory.mktemp("fault-matrix")
    config = bridge_config(unsure=UNSURE, fs_timeout=FS_TIMEOUT, gh_timeout=GH_TIMEOUT)
    with open_rig(tmp, retry_delays=DEFAULT_RETRY_DELAYS, config=config) as rig:
        rig.start_bridge()
        yield rig


@pytest.fixture
def matrix(shared: Deployment) -> Iterator[Deployment]:
    shared.settle()
    yield shared
    shared.clear_faults()
    shared.settle()


def timeouts(rig: Deployment, step: Step) -> float:
    """How many of the bridge's calls for ``step`` ended in a client timeout (from its ``/metrics``)."""
    text = httpx.get(f"{rig.bridges[0].url}/metrics", timeout=10).text
    labels = f'api="{step.api}",operation="{step.operation}",status="timeout"'
    found = re.search(r"^bridge_upstream_calls_total\{" + re.escape(labels) + r"\} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def _link(rig: Deployment, subject: str) -> int:
    conversation_id = int(rig.fs.email(subject=subject, tags=["bug"])["id"])
    rig.settle()
    return conversation_id


@pytest.mark.parametrize(("step", "fault"), CASES)
def test_one_link_after_the_fault_clears(matrix: Deployment, step: Step, fault: str) -> None:
    rig = matrix
    subject = f"matrix {step.name} {fault}"
    conversation_id = _link(rig, subject) if step.closing else 0
    timeouts_before = timeouts(rig, step)
    rig.sim(step.api).fault(method=step.method, path=step.path, times=times(step, fault), **FAULTS[fault])
    if step.closing:
        rig.fs.post(f"/_sim/conversations/{conversation_id}/agent-status", {"status": "closed", "userId": 3})
        rig.settle()
    else:
        conversation_id = _link(rig, subject)

    fired = [f["fired"] for f in rig.sim(step.api).faults()]
    assert fired and fired[0] >= 1, "the fault never hit its step"
    if fault == "timeout":
        assert timeouts(rig, step) > timeouts_before, "the bridge's client did not time out"
    issues = rig.gh.issues_for(conversation_id)
    assert len(issues) == 1, f"{len(issues)} issues carry the marker of conversation {conversation_id}"
    assert rig.fs.field(conversation_id) == issues[0]["html_url"]
    assert len(rig.fs.bot_notes(conversation_id)) == 1
    if step.closing:
        assert len(rig.closing_comments(conversation_id)) == 1
    assert rig.gh.violations() == 0
