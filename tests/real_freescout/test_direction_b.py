"""Direction B end to end on a real FreeScout: ``freescout-sync`` (the Actions script) files a real
ticket, and the ``convo.created`` that ticket causes does not loop back to GitHub.

The script runs as a workflow step runs it: a subprocess with a clean environment and an event file.
The bridge of Direction A is registered as FreeScout's webhook meanwhile, to prove the loop guard.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.actions.payloads import ISSUE_URL, REPOSITORY, labeled
from tests.harness import ROOT, workflow_env
from tests.real_freescout.lane import Lane

pytestmark = pytest.mark.real_freescout


def run_sync(lane: Lane, tmp_path: Path, label: str) -> subprocess.CompletedProcess[str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(labeled(label)), encoding="utf-8")
    summary = tmp_path / "summary.md"
    summary.write_text("", encoding="utf-8")
    env = workflow_env(
        lane.fs.url,
        lane.gh.url,
        GITHUB_EVENT_PATH=str(event),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_REPOSITORY=REPOSITORY,
        GITHUB_TOKEN=lane.bridge.env["GITHUB_ISSUE_BOT_TOKEN"],
        FREESCOUT_API_KEY=lane.fs.api_key,
        FREESCOUT_BOT_USER_ID=str(lane.fs.bot_user_id),
        FREESCOUT_OPS_MAILBOX=lane.mailbox("ops").email,
    )
    script = Path(sys.executable).with_name("freescout-sync")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "bridge.actions.sync"]
    return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_labelled_issue_files_one_real_ticket_that_does_not_loop(lane: Lane, tmp_path: Path) -> None:
    seeded = lane.gh.post(
        "/_sim/issues",
        {
            "repo": REPOSITORY,
            "title": "Export crashes on save",
            "body": "Steps: open, save.",
            "labels": ["customer-reported"],
        },
    )
    assert seeded["number"] == 1
    result = run_sync(lane, tmp_path, "customer-reported")
    assert result.returncode == 0, result.stdout + result.stderr

    ops = lane.mailbox("ops")
    listed = lane.api.get(
        "/api/conversations",
        params={"mailboxId": ops.id, "tag": "_from_github", "state": "published", "embed": "threads"},
    )
    (ticket,) = listed.json()["_embedded"]["conversations"]
    fresh = lane.conversation(int(ticket["id"]))
    assert fresh["subject"] == "Export crashes on save"
    assert {t["name"] for t in fresh["_embedded"]["tags"]} == {"_from_github", "customer-reported"}
    assert lane.field_value(int(ticket["id"])) == ISSUE_URL
    (note,) = lane.bot_notes(int(ticket["id"]))
    assert ISSUE_URL in note["body"]

    writes = lane.gh_writes()
    assert [w for w in writes if w[0] == "POST" and w[1].endswith("/issues")] == []
    lane.fs.drain()  # convo.created (held back by the undo window: an API user created it) goes out
    deliveries = lane.bridge.deliveries_for(int(ticket["id"]))
    assert [d["event"] for d in deliveries] == ["convo.created"], deliveries
    assert deliveries[0]["outcome"] == "ignore", deliveries
    assert lane.gh_writes() == writes, "the ticket's convo.created wrote nothing to GitHub"
    (issue,) = lane.gh.issues(REPOSITORY)
    comments = [str(c.get("body") or "") for c in issue.get("comment_list", [])]
    ticket_url = f"{lane.fs.url}/conversation/{ticket['id']}"
    assert comments == [f"[freescout-autolink] FreeScout ticket: {ticket_url}"]
