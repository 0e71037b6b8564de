"""Direction B's writes whose outcome is unknown: each is looked for, never sent twice (``bridge.in_doubt``).

The bug this pins: FreeScout took longer to store a ticket than the script's client waited. The script
looked for it a few times within half a second, found nothing yet, and filed a second ticket. Now every
write step (the ticket create, the sentinel comment, the confirmation note) is faulted in each way an
upstream can leave its outcome unknown, with the simulators' own faults:

- ``slow``: the upstream stores the write only after the client gave up (PHP goes on working);
- ``hang``: the write is stored at once, but the answer comes after the client gave up;
- ``lost_response``: the write is stored and the connection closes without an answer.

Every case ends with exactly one ticket, one sentinel comment and one note, and the run succeeds.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.actions.conftest import OPS_MAILBOX_ID, Harness
from tests.actions.payloads import labeled
from tests.actions.test_sync_subprocess import CREATE, created, sentinels

#: The clients give up after one second; a slow upstream stores its write after two, inside the window.
FAST_CLIENTS = {"FREESCOUT_TIMEOUT_SECONDS": "1", "GITHUB_TIMEOUT_SECONDS": "1"}
LATE = 2.5

FAULTS = [
    pytest.param({"kind": "slow", "delay": LATE}, id="stored-after-the-client-gave-up"),
    pytest.param({"kind": "hang", "delay": LATE}, id="answer-after-the-client-gave-up"),
    pytest.param({"kind": "lost_response"}, id="answer-lost"),
]


def notes(h: Harness, ticket: int) -> list[dict[str, Any]]:
    path = f"/api/conversations/{ticket}/threads"
    return [r["json"] for r in h.fs_requests() if (r["method"], r["path"]) == ("POST", path)]


@pytest.mark.parametrize("fault", FAULTS)
def test_ticket_create_in_doubt_files_one_ticket(h: Harness, fault: dict[str, Any]) -> None:
    h.seed_issue(labels=["customer-reported", "needs-customer-confirm"])
    h.fs_fault(method="POST", path="/api/conversations$", times=1, **fault)
    result = h.run(labeled(labels=["customer-reported", "needs-customer-confirm"]), **FAST_CLIENTS)
    assert result.code == 0, result.stdout
    assert len(created(h)) == 1, "the create was sent once"
    assert len(h.conversations()) == 1 and len(sentinels(h)) == 1
    assert len(notes(h, h.conversations()[0]["id"])) == 1


@pytest.mark.parametrize("fault", FAULTS)
def test_sentinel_comment_in_doubt_is_posted_once(h: Harness, fault: dict[str, Any]) -> None:
    h.seed_issue(labels=["regression"])
    h.gh_fault(method="POST", path="/comments$", times=1, **fault)
    result = h.run(labeled("regression"), **FAST_CLIENTS)
    assert result.code == 0, result.stdout
    assert len(created(h)) == 1 and len(h.conversations()) == 1
    assert len(sentinels(h)) == 1, h.comments()
    assert [w for w in h.gh_writes() if w[0] == "POST"] == [
        ("POST", "/repos/Codertocat/Hello-World/issues/1/comments")
    ]


@pytest.mark.parametrize("fault", FAULTS)
def test_confirmation_note_in_doubt_is_posted_once(h: Harness, fault: dict[str, Any]) -> None:
    ticket = h.seed_conversation(mailbox_id=OPS_MAILBOX_ID)
    sentinel = f"[freescout-autolink] FreeScout ticket: {h.fs_url}/conversation/{ticket}"
    h.seed_issue(labels=["needs-customer-confirm"], comments=[sentinel])
    h.fs_fault(method="POST", path="/threads$", times=1, **fault)
    result = h.run(labeled("needs-customer-confirm"), **FAST_CLIENTS)
    assert result.code == 0, result.stdout
    assert len(notes(h, ticket)) == 1
    (stored,) = [c for c in h.conversations() if c["id"] == ticket]
    threads = stored["_embedded"]["threads"]
    assert sum("confirmation" in str(t).lower() for t in threads) == 1, "stored once"


def test_a_create_still_in_doubt_fails_the_step_and_the_rerun_finishes(h: Harness) -> None:
    """Past its window the run stops with an annotation instead of filing what may be a twin."""
    h.seed_issue(labels=["customer-reported"])
    h.fs_fault(method="POST", path="/api/conversations$", kind="status", status=502, times=0)
    failed = h.run(labeled(), FREESCOUT_IN_DOUBT_SECONDS="1.5", FREESCOUT_TIMEOUT_SECONDS="1")
    assert failed.code == 1
    assert any("Re-run this job" in e and "FREESCOUT_URL" in e for e in failed.errors()), failed.stdout
    assert len([r for r in h.fs_requests() if (r["method"], r["path"]) == CREATE]) == 1, "sent once"
    h.fs.clear_faults()
    rerun = h.run(labeled())
    assert rerun.code == 0, rerun.stdout
    assert len(h.conversations()) == 1 and len(sentinels(h)) == 1


def test_an_in_doubt_window_no_longer_than_the_timeout_is_refused(h: Harness) -> None:
    """A window the request itself outlasts would send a timed-out write again before it lands."""
    h.seed_issue(labels=["customer-reported"])
    result = h.run(labeled(), FREESCOUT_IN_DOUBT_SECONDS="0", FREESCOUT_TIMEOUT_SECONDS="1")
    assert result.code == 1 and any("FREESCOUT_IN_DOUBT_SECONDS" in e for e in result.errors())
    assert created(h) == []
