"""GitHub → FreeScout through Actions: ``freescout-sync`` on issues closed/reopened and ``/support`` comments.

One issue waits on three tickets: the one that opened it (the body's marker), one filed by Direction B
(its sentinel comment) and one linked by a note command (a link record). The run reconciles the issue's
tickets on fresh state, so the same event twice, two runs at once, or a re-run after a failure writes
each notice exactly once. Real payloads from @octokit/webhooks-examples, one field changed at a time.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bridge.vocab import issue_marker, link_record_marker, notice_keys_in
from tests.actions.conftest import BOT, OPS_FIELD_ID, OPS_MAILBOX_ID, Harness, Result
from tests.actions.payloads import ISSUE_URL

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
SUPPORT_FIELD_ID = 7  # mailbox 2's github_issue_url in the simulator


def event(name: str, **issue: Any) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(json.loads((FIXTURES / name).read_text()))
    data["issue"].update(issue)
    return data


class Desk:
    """Three tickets linked to issue #1, seen through FreeScout's own API on the simulator."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.opener = self.ticket(2, SUPPORT_FIELD_ID, "pending")
        self.filed = self.ticket(OPS_MAILBOX_ID, OPS_FIELD_ID, "active")
        self.linked = self.ticket(2, SUPPORT_FIELD_ID, "pending")

    def ticket(self, mailbox: int, field: int, status: str) -> int:
        cid = self.h.seed_conversation(mailbox_id=mailbox)
        body = {"customFields": [{"id": field, "value": ISSUE_URL}]}
        self.h.fs.api("PUT", f"/conversations/{cid}/custom_fields", body)
        self.set_status(cid, status)
        return cid

    def set_status(self, cid: int, status: str) -> None:
        body = {"status": status, "byUser": BOT}
        self.h.fs.api("PUT", f"/conversations/{cid}", body)

    def seed_issue(self, **spec: Any) -> None:
        comments = [
            f"[freescout-autolink] FreeScout ticket: {self.h.fs_url}/conversation/{self.filed}",
            f"{link_record_marker('link', self.linked, 501)}\nFreeScout ticket #{self.linked} waits on this.",
            *spec.pop("comments", []),
        ]
        self.h.seed_issue(body=f"{issue_marker(self.opener)}\n\nCSV export fails", comments=comments, **spec)

    def conversation(self, cid: int) -> dict[str, Any]:
        data: dict[str, Any] = self.h.fs.api("GET", f"/conversations/{cid}?embed=threads")
        return data

    def notices(self, cid: int) -> list[str]:
        threads = sorted(self.conversation(cid)["_embedded"]["threads"], key=lambda t: -t["id"])
        return [k for t in threads if t["type"] == "note" for k in notice_keys_in(t.get("body"))]

    def status(self, cid: int) -> str:
        return str(self.conversation(cid)["status"])

    @property
    def all(self) -> tuple[int, int, int]:
        return self.opener, self.filed, self.linked


def run(h: Harness, data: dict[str, Any], event_name: str = "issues", **env: str | None) -> Result:
    return h.run(data, GITHUB_EVENT_NAME=event_name, **env)


def test_closed_as_completed_tells_every_linked_ticket_once_and_wakes_pending_ones(h: Harness) -> None:
    desk = Desk(h)
    desk.seed_issue(state="closed", state_reason="completed")
    closed = event("issues.closed.json")
    first = run(h, closed)
    assert first.code == 0, first.stdout
    for cid in desk.all:
        (key,) = desk.notices(cid)
        assert key.startswith("closed:")
    assert [desk.status(c) for c in desk.all] == ["active", "active", "active"]
    assert "linked tickets told" in first.summary
    # The same event again (a re-run, or the webhook transport too): nothing more.
    again = run(h, closed)
    assert again.code == 0, again.stdout
    assert [len(desk.notices(c)) for c in desk.all] == [1, 1, 1]
    assert h.gh_writes() == [], "the return path writes nothing to GitHub"


def test_not_planned_notes_without_changing_status(h: Harness) -> None:
    desk = Desk(h)
    desk.seed_issue(state="closed", state_reason="not_planned")
    result = run(h, event("issues.closed.json", state_reason="not_planned"))
    assert result.code == 0, result.stdout
    assert [len(desk.notices(c)) for c in desk.all] == [1, 1, 1]
    assert desk.status(desk.opener) == "pending"
    texts = [t["body"] for t in desk.conversation(desk.opener)["_embedded"]["threads"] if t["type"] == "note"]
    assert any("not planned" in t for t in texts)


def test_reopened_after_a_close_notes_each_ticket_that_heard_of_the_close(h: Harness) -> None:
    desk = Desk(h)
    desk.seed_issue(state="closed", state_reason="completed")
    assert run(h, event("issues.closed.json")).code == 0
    h.gh.reset()  # the issue reopened: seed it again, open
    desk.seed_issue()
    reopened = run(h, event("issues.reopened.json"))
    assert reopened.code == 0, reopened.stdout
    for cid in desk.all:
        keys = desk.notices(cid)  # newest first
        assert len(keys) == 2 and keys[0].startswith("reopened:") and keys[1].startswith("closed:"), keys


def test_support_comment_reaches_each_ticket_as_inert_text(h: Harness) -> None:
    desk = Desk(h)
    text = "/support the fix ships Friday <script>alert(1)</script> @team #12"
    desk.seed_issue(comments=[text])
    comment = event("issue_comment.created.json")
    comment["comment"]["body"] = text
    result = run(h, comment, "issue_comment")
    assert result.code == 0, result.stdout
    for cid in desk.all:
        (key,) = desk.notices(cid)
        assert key.startswith("comment:")
        notes = [t["body"] for t in desk.conversation(cid)["_embedded"]["threads"] if t["type"] == "note"]
        assert len(notes) == 1 and "the fix ships Friday" in notes[0] and "<script>" not in notes[0]
    assert run(h, comment, "issue_comment").code == 0
    assert [len(desk.notices(c)) for c in desk.all] == [1, 1, 1]


def test_a_comment_not_for_support_and_the_bridges_own_comments_write_nothing(h: Harness) -> None:
    desk = Desk(h)
    desk.seed_issue(comments=["just engineering chatter"])
    plain = run(h, event("issue_comment.created.json"), "issue_comment")
    assert plain.code == 0 and "skipped" in plain.stdout
    stranger = event("issue_comment.created.json")
    stranger["comment"]["body"] = "/support buy cheap watches"
    stranger["comment"]["author_association"] = "NONE"
    outsider = run(h, stranger, "issue_comment")
    assert outsider.code == 0 and "no role on the repository" in outsider.summary
    own = event("issue_comment.created.json")
    own["comment"]["body"] = "/support [freescout-autolink] FreeScout ticket #9 resolved"
    own["comment"]["user"]["login"] = "github-actions[bot]"
    assert run(h, own, "issue_comment").code == 0
    assert [desk.notices(c) for c in desk.all] == [[], [], []]


def test_deleted_and_spam_tickets_are_skipped_closed_ones_still_hear(h: Harness) -> None:
    desk = Desk(h)
    desk.set_status(desk.filed, "spam")
    desk.set_status(desk.linked, "closed")
    desk.seed_issue(state="closed", state_reason="completed")
    result = run(h, event("issues.closed.json"))
    assert result.code == 0, result.stdout
    assert desk.notices(desk.filed) == []
    assert len(desk.notices(desk.linked)) == 1 and desk.status(desk.linked) == "closed"
    assert len(desk.notices(desk.opener)) == 1


def test_freescout_failing_mid_way_fails_the_step_and_the_rerun_finishes(h: Harness) -> None:
    desk = Desk(h)
    desk.seed_issue(state="closed", state_reason="completed")
    h.fs_fault(
        method="POST", path=f"/conversations/{desk.linked}/threads$", kind="status", status=422, times=0
    )
    failed = run(h, event("issues.closed.json"))
    assert failed.code == 1 and any("re-run this job" in e for e in failed.errors()), failed.stdout
    assert [len(desk.notices(c)) for c in desk.all] == [1, 1, 0]
    h.fs.clear_faults()
    rerun = run(h, event("issues.closed.json"))
    assert rerun.code == 0, rerun.stdout
    assert [len(desk.notices(c)) for c in desk.all] == [1, 1, 1]


@pytest.mark.parametrize("kind", ["slow", "hang", "lost_response"])
def test_a_notice_in_doubt_is_written_once(h: Harness, kind: str) -> None:
    desk = Desk(h)
    desk.seed_issue(state="closed", state_reason="completed")
    spec: dict[str, Any] = {"kind": kind, "times": 1, **({"delay": 2.5} if kind != "lost_response" else {})}
    h.fs_fault(method="POST", path=f"/conversations/{desk.opener}/threads$", **spec)
    result = run(h, event("issues.closed.json"), FREESCOUT_TIMEOUT_SECONDS="1")
    assert result.code == 0, result.stdout
    assert [len(desk.notices(c)) for c in desk.all] == [1, 1, 1]


def test_shadow_mode_reports_and_writes_nothing(h: Harness) -> None:
    desk = Desk(h)
    desk.seed_issue(state="closed", state_reason="completed")
    result = run(h, event("issues.closed.json"), FLAG_FREESCOUT_GITHUB_AUTOLINK="no")
    assert result.code == 0, result.stdout
    assert "dry run" in result.summary and "add_note:closed:" in result.summary
    assert [desk.notices(c) for c in desk.all] == [[], [], []]
    assert desk.status(desk.opener) == "pending"


def test_a_status_policy_from_the_environment(h: Harness) -> None:
    desk = Desk(h)
    desk.seed_issue(state="closed", state_reason="completed")
    result = run(h, event("issues.closed.json"), FREESCOUT_ON_COMPLETED="note")
    assert result.code == 0, result.stdout
    assert desk.status(desk.opener) == "pending" and len(desk.notices(desk.opener)) == 1
    bad = run(h, event("issues.closed.json"), FREESCOUT_ON_COMPLETED="close_it")
    assert bad.code == 1 and any("FREESCOUT_ON_COMPLETED" in e for e in bad.errors())
