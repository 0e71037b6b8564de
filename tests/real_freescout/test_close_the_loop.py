"""Close the loop (issue #10) on a real FreeScout: GitHub events reach real notes and status changes, and
their echoes write nothing back to GitHub.

The issue lives on the GitHub simulator; an engineer closes, reopens or comments on it through its REST
API, and ``freescout-sync`` (the Actions transport) runs on the real ``@octokit/webhooks-examples`` payload
carrying that issue, against the real FreeScout. The web transport gets the same event as GitHub delivers
it (a signed ``POST /api/webhooks/github``), one transport after the other. The first ticket opens the
issue through FreeScout's real webhooks (Direction A); further tickets wait on it as a note command leaves
them: the field written through FreeScout's API and a link record comment on the issue.
``lane.fs.drain()`` then sends the webhooks the bridge's own notes and status changes caused, so their
echoes reach the bridge process.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.signature import sign_github
from bridge.vocab import closed_notice_key, comment_notice_key, link_record_marker, notice_keys_in
from sandbox.real_freescout import RealFreeScout
from tests.harness import REPO, GitHub
from tests.real_freescout.lane import Lane

pytestmark = pytest.mark.real_freescout

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
OWNER, NAME = REPO.split("/")
SECRET = "lane-github-webhook-secret"  # GITHUB_WEBHOOK_SECRET of this module's bridge


@pytest.fixture(scope="module")
def lane(real_fs: RealFreeScout, gh: GitHub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lane]:
    """The lane's bridge with its GitHub webhook route on, so one event can reach both transports."""
    with Lane(real_fs, gh, tmp_path_factory.mktemp("lane"), GITHUB_WEBHOOK_SECRET=SECRET) as running:
        yield running


# -- GitHub: the engineer's side ------------------------------------------------------------------------


def payload(name: str, issue: dict[str, Any], comment: dict[str, Any] | None = None) -> dict[str, Any]:
    """The real octokit example ``name`` about the simulator's ``issue`` (and ``comment``) in ``REPO``."""
    data: dict[str, Any] = copy.deepcopy(json.loads((FIXTURES / name).read_text(encoding="utf-8")))
    data["issue"].update(issue)
    data["repository"].update(
        full_name=REPO,
        name=NAME,
        html_url=f"https://github.com/{REPO}",
        url=f"https://api.github.com/repos/{REPO}",
    )
    data["repository"]["owner"]["login"] = OWNER
    if comment is not None:
        data["comment"].update(comment)
    return data


def set_state(lane: Lane, number: int, state: str, reason: str | None = None) -> dict[str, Any]:
    body = {"state": state, **({"state_reason": reason} if reason else {})}
    issue: dict[str, Any] = lane.github("PATCH", f"/repos/{REPO}/issues/{number}", body)
    return issue


def comment(lane: Lane, number: int, text: str) -> dict[str, Any]:
    posted: dict[str, Any] = lane.github("POST", f"/repos/{REPO}/issues/{number}/comments", {"body": text})
    return posted


def sync(lane: Lane, tmp_path: Path, event: str, data: dict[str, Any]) -> str:
    """One ``freescout-sync`` run; it must succeed. Its stdout, for the failure messages."""
    done = lane.freescout_sync(event, data, tmp_path / "actions")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


# -- FreeScout: the tickets ---------------------------------------------------------------------------


def opened(lane: Lane) -> tuple[int, dict[str, Any]]:
    """A customer writes in, support tags it ``bug``: Direction A opens the issue over real webhooks."""
    cid = lane.customer_writes_in(tags=["bug"])
    lane.fs.drain()
    (issue,) = lane.issues_for(cid)
    assert lane.field_value(cid) == issue["html_url"]
    return cid, issue


def also_waits(lane: Lane, issue: dict[str, Any]) -> int:
    """Another customer's ticket waiting on ``issue``, linked as ``#github link`` links one: the field
    through FreeScout's API and a link record comment on the issue."""
    cid = lane.customer_writes_in(tags=[])
    lane.fs.drain()  # its convo.created: untagged, left alone
    lane.set_field(cid, str(issue["html_url"]))
    thread = max(t["id"] for t in lane.conversation(cid)["_embedded"]["threads"])
    record = f"{link_record_marker('link', cid, thread)}\nFreeScout ticket #{cid} now waits on this issue."
    comment(lane, int(issue["number"]), record)
    return cid


def newest_first(lane: Lane, cid: int) -> list[dict[str, Any]]:
    """The bot's notes, newest (highest id) first: FreeScout's own order puts same-second threads oldest
    first."""
    return sorted(lane.bot_notes(cid), key=lambda t: -int(t["id"]))


def notices(lane: Lane, cid: int) -> list[str]:
    """The notice keys of the bot's notes, newest first."""
    return [key for note in newest_first(lane, cid) for key in notice_keys_in(note["body"])]


def status(lane: Lane, cid: int) -> str:
    return str(lane.conversation(cid)["status"])


def threads(lane: Lane, cid: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = lane.conversation(cid)["_embedded"]["threads"]
    return found


def resolved_comments(lane: Lane, number: int) -> list[str]:
    return [c for c in lane.gh.comments(number) if "resolved" in c]


# -- the tests ------------------------------------------------------------------------------------------


def test_closed_as_completed_wakes_the_pending_ticket_once_and_its_echoes_write_nothing(
    lane: Lane, tmp_path: Path
) -> None:
    cid, issue = opened(lane)
    number = int(issue["number"])
    lane.agent_sets_status(cid, "pending")  # support waits on engineering
    lane.fs.drain()
    closed = set_state(lane, number, "closed", "completed")
    writes = lane.gh_writes()
    seen = len(lane.bridge.deliveries_for(cid))

    sync(lane, tmp_path, "issues", payload("issues.closed.json", closed))
    assert notices(lane, cid) == [closed_notice_key(REPO, number, str(closed["closed_at"]))]
    assert status(lane, cid) == "active"
    # Status first, then the note: the newest two threads are the bot's status line and its note.
    newest = sorted(threads(lane, cid), key=lambda t: t["id"])[-2:]
    assert [t["type"] for t in newest] == ["lineitem", "note"], newest
    assert all(t["createdBy"]["id"] == lane.fs.bot_user_id for t in newest)
    assert "closed as completed" in newest[1]["body"]
    count = len(threads(lane, cid))

    sync(lane, tmp_path, "issues", payload("issues.closed.json", closed))  # a re-run, or a redelivery
    assert len(threads(lane, cid)) == count

    assert lane.fs.drain() >= 2  # the echoes: convo.status (active) and convo.note.created
    echoes = lane.bridge.deliveries_for(cid)[seen:]
    assert sorted(d["event"] for d in echoes) == ["convo.note.created", "convo.status"], echoes
    assert {d["outcome"] for d in echoes} == {"ignore"}, echoes
    assert lane.gh_writes() == writes, "the bot's status change and note wrote nothing to GitHub"
    assert resolved_comments(lane, number) == []
    assert len(threads(lane, cid)) == count

    lane.agent_sets_status(cid, "closed")  # support tells the customer and closes the ticket
    lane.fs.drain()
    assert lane.bridge.deliveries_for(cid)[-1]["outcome"] == "comment_closed"
    (resolution,) = resolved_comments(lane, number)
    assert lane.gh.issue(number)["state"] == "closed"

    # The resolution comment echoes back as issue_comment created: it writes nothing to FreeScout.
    posted = lane.github("GET", f"/repos/{REPO}/issues/{number}/comments")
    own = next(c for c in posted if c["body"] == resolution)
    sync(lane, tmp_path, "issue_comment", payload("issue_comment.created.json", closed, own))
    lane.fs.drain()
    assert len(threads(lane, cid)) == count + 1  # the agent's own status line, nothing else
    assert status(lane, cid) == "closed"
    assert len(resolved_comments(lane, number)) == 1


def test_three_tickets_on_one_issue_hear_of_close_reopen_and_support_comments_once_each(
    lane: Lane, tmp_path: Path
) -> None:
    opener, issue = opened(lane)
    number = int(issue["number"])
    finished, waiting = also_waits(lane, issue), also_waits(lane, issue)
    lane.agent_sets_status(finished, "closed")  # support already answered this customer
    lane.agent_sets_status(waiting, "pending")
    lane.fs.drain()
    tickets = (opener, finished, waiting)
    writes = lane.gh_writes()

    closed = set_state(lane, number, "closed", "completed")
    sync(lane, tmp_path, "issues", payload("issues.closed.json", closed))
    key = closed_notice_key(REPO, number, str(closed["closed_at"]))
    assert [notices(lane, c) for c in tickets] == [[key]] * 3
    assert [status(lane, c) for c in tickets] == ["active", "closed", "active"], (
        "a closed ticket stays closed"
    )

    reopened = set_state(lane, number, "open")
    sync(lane, tmp_path, "issues", payload("issues.reopened.json", reopened))
    for cid in tickets:
        keys = notices(lane, cid)
        assert len(keys) == 2 and keys[0].startswith("reopened:") and keys[1] == key, keys
    assert status(lane, finished) == "closed"

    text = "/support the fix ships Friday <script>alert(1)</script> & <b>bold</b> @team #12"
    posted = comment(lane, number, text)
    data = payload("issue_comment.created.json", reopened, posted)
    sync(lane, tmp_path, "issue_comment", data)
    sync(lane, tmp_path, "issue_comment", data)  # redelivered
    ckey = comment_notice_key(REPO, number, int(posted["id"]))
    for cid in tickets:
        (newest, *_) = newest_first(lane, cid)
        assert notices(lane, cid)[0] == ckey and len(notices(lane, cid)) == 3
        body = str(newest["body"])
        assert (
            "the fix ships Friday &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in body
        ), body
        assert "<script>" not in body and "<b>" not in body
    assert status(lane, finished) == "closed"

    counts = [len(threads(lane, c)) for c in tickets]
    lane.fs.drain()  # every note and status change echoes to the bridge
    assert lane.gh_writes()[len(writes) :] == [
        ("PATCH", f"/repos/{REPO}/issues/{number}"),
        ("PATCH", f"/repos/{REPO}/issues/{number}"),
        ("POST", f"/repos/{REPO}/issues/{number}/comments"),
    ], "only the engineer's own writes: the echoes wrote nothing to GitHub"
    assert [len(threads(lane, c)) for c in tickets] == counts


# -- both transports ------------------------------------------------------------------------------------


def deliver(
    lane: Lane, event: str, data: dict[str, Any], delivery: str | None = None, secret: str = SECRET
) -> httpx.Response:
    """One GitHub webhook delivery to the bridge's web route, signed as GitHub signs it."""
    raw = json.dumps(data).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/lane",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign_github(raw, secret),
    }
    return httpx.post(f"{lane.bridge.url}/api/webhooks/github", content=raw, headers=headers, timeout=10)


def fan_outs(lane: Lane) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in lane.bridge.log_lines() if line.startswith("{")]
    return [line for line in lines if line.get("msg") == "github_fan_out"]


def fanned_out(lane: Lane, passes: int, timeout: float = 60.0) -> dict[str, Any]:
    """Wait (by condition) until the web process has finished ``passes`` fan-outs; the last one."""
    deadline = time.monotonic() + timeout
    while len(fan_outs(lane)) < passes:
        assert time.monotonic() < deadline, f"no fan-out #{passes} in the bridge log"
        time.sleep(0.1)
    return fan_outs(lane)[passes - 1]


def test_one_close_through_both_transports_writes_each_note_once(lane: Lane, tmp_path: Path) -> None:
    opener, issue = opened(lane)
    number = int(issue["number"])
    waiting = also_waits(lane, issue)
    lane.agent_sets_status(waiting, "pending")
    lane.fs.drain()
    tickets = (opener, waiting)
    passes = len(fan_outs(lane))

    refused = deliver(lane, "issues", {"zen": "x"}, secret="not-the-secret")
    assert refused.status_code == 401, refused.text

    closed = set_state(lane, number, "closed", "completed")
    data = payload("issues.closed.json", closed)
    delivery = str(uuid.uuid4())
    answer = deliver(lane, "issues", data, delivery)
    assert answer.status_code == 202, answer.text
    report = fanned_out(lane, passes + 1)
    assert report["state"] == "done" and report["tickets"] == {"updated": 2}, report
    key = closed_notice_key(REPO, number, str(closed["closed_at"]))
    assert [notices(lane, c) for c in tickets] == [[key], [key]]
    assert [status(lane, c) for c in tickets] == ["active", "active"]

    again = deliver(lane, "issues", data, delivery)  # GitHub's redelivery: same id
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate", again.text
    sync(lane, tmp_path, "issues", data)  # the Actions run of the same event
    assert [notices(lane, c) for c in tickets] == [[key], [key]]

    # Reopened: the Actions run first this time, then the webhook.
    reopened = set_state(lane, number, "open")
    data = payload("issues.reopened.json", reopened)
    sync(lane, tmp_path, "issues", data)
    assert deliver(lane, "issues", data).status_code == 202
    report = fanned_out(lane, passes + 2)
    assert report["state"] == "done" and report["tickets"] == {"skipped": 2}, report
    for cid in tickets:
        keys = notices(lane, cid)
        assert len(keys) == 2 and keys[0].startswith("reopened:") and keys[1] == key, keys

    writes = lane.gh_writes()
    lane.fs.drain()  # the notes and status changes echo to the bridge
    assert lane.gh_writes() == writes, "the echoes wrote nothing to GitHub"
    assert resolved_comments(lane, number) == []
