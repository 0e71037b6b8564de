"""Note commands end to end (issue #10, section 1): agents link tickets to one issue from FreeScout.

Real uvicorn bridge, both simulators, signed webhooks over loopback. Each test counts what each side
stored and what the bridge sent: records, field writes, reply notes, the demand comment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_direction_a import signed_delivery
from tests.harness import Bridge, FreeScout, GitHub

pytestmark = pytest.mark.e2e
StartBridge = Callable[..., Bridge]
AGENT = 3


def note(fs: FreeScout, cid: int, *lines: str) -> None:
    """An agent's internal note, one paragraph per line, as FreeScout's editor writes it."""
    html = "".join(f"<p>{line}</p>" for line in lines)
    fs.post(f"/_sim/conversations/{cid}/agent-note", {"body": html, "userId": AGENT})
    fs.wait_idle()


def replies(fs: FreeScout, cid: int) -> list[str]:
    return [str(t["body"]) for t in fs.bot_notes(cid) if "notice=command:" in str(t["body"])]


def issue_comments(gh: GitHub, number: int) -> list[dict[str, Any]]:
    return list(gh.issue(number).get("comment_list", []))


def records(gh: GitHub, number: int, kind: str = "link") -> list[str]:
    head = f"<!-- [freescout-autolink] {kind} conversation="
    return [str(c["body"]) for c in issue_comments(gh, number) if str(c["body"]).startswith(head)]


def demand_comments(gh: GitHub, number: int) -> list[str]:
    head = "<!-- [freescout-autolink] demand -->"
    return [str(c["body"]) for c in issue_comments(gh, number) if str(c["body"]).startswith(head)]


def field_writes(fs: FreeScout, cid: int) -> int:
    path = f"/api/conversations/{cid}/custom_fields"
    return sum(1 for r in fs.requests() if r["method"] == "PUT" and r["path"] == path)


def github_writes(gh: GitHub) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in gh.writes()]


def note_deliveries(fs: FreeScout, cid: int) -> list[int]:
    return [
        d["index"]
        for d in fs.deliveries()
        if d["event"] == "convo.note.created" and d["conversationId"] == cid and not d["redelivery"]
    ]


def test_three_tickets_wait_on_one_issue_and_its_demand_comment_is_edited_in_place(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge()
    first = fs.email(tags=["bug"], email="dana@one.example")
    fs.wait_idle()
    (issue,) = gh.issues()
    number, url = issue["number"], issue["html_url"]
    second = fs.email(subject="Export broken", tags=[], email="lee@two.example")
    third = fs.email(subject="CSV 500", tags=["question"], email="kim@two.example")
    fs.wait_idle()
    note(fs, second["id"], "Same bug as the export one.", f"#github link acme/app#{number}")
    assert len(demand_comments(gh, number)) == 1
    note(fs, third["id"], f"#github link {url}")

    for ticket in (first, second, third):
        assert fs.field(ticket["id"]) == url
    assert len(replies(fs, second["id"])) == 1 and len(replies(fs, third["id"])) == 1
    assert "Linked to GitHub issue" in replies(fs, third["id"])[0]
    assert len(records(gh, number)) == 2
    (demand,) = demand_comments(gh, number)
    assert "3 FreeScout tickets from 3 customers wait on this issue" in demand
    assert "`two.example` (2)" in demand and "`one.example` (1)" in demand
    assert "@" not in demand  # domains only: include_customer_email is off
    labels = [label["name"] for label in gh.issue(number)["labels"]]
    assert "freescout-linked" in labels and "customer-demand" in labels
    comment_posts = [
        w for w in github_writes(gh) if w == ("POST", f"/repos/acme/app/issues/{number}/comments")
    ]
    assert len(comment_posts) == 3  # two records and the demand comment's one create
    assert [m for m, p in github_writes(gh) if "/issues/comments/" in p] == ["PATCH"]

    # Every delivery again (FreeScout redelivers on a lost answer): nothing more anywhere.
    writes, fs_calls = github_writes(gh), len(fs.requests())
    notes = [fs.bot_notes(second["id"]), fs.bot_notes(third["id"])]
    for ticket in (second, third):
        for index in note_deliveries(fs, ticket["id"]):
            fs.post("/_sim/redeliver", {"index": index})
    fs.wait_idle()
    assert github_writes(gh) == writes
    assert [fs.bot_notes(second["id"]), fs.bot_notes(third["id"])] == notes
    assert {r["method"] for r in fs.requests()[fs_calls:]} == {"GET"}

    # The bridge's own reply notes came back as convo.note.created and wrote nothing.
    echoes = [d for d in bridge.deliveries_logged() if d.get("reason") == "own_write_echo"]
    assert {d["conversation_id"] for d in echoes} >= {first["id"], second["id"], third["id"]}


def test_a_ticket_closing_and_reopening_updates_the_count(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    start_bridge()
    issue = gh.post("/_sim/issues", {"title": "Totals off by one"})
    number = issue["number"]
    tickets = [fs.email(tags=[], email=f"c{k}@shop{k}.example") for k in range(2)]
    fs.wait_idle()
    for ticket in tickets:
        note(fs, ticket["id"], f"#github link #{number}")
    assert "2 FreeScout tickets from 2 customers wait" in demand_comments(gh, number)[0]
    fs.post(f"/_sim/conversations/{tickets[0]['id']}/agent-status", {"status": "closed", "userId": AGENT})
    fs.wait_idle()
    (demand,) = demand_comments(gh, number)
    assert "1 FreeScout ticket from 1 customer waits" in demand and "1 more linked ticket closed" in demand
    fs.post(f"/_sim/conversations/{tickets[0]['id']}/agent-status", {"status": "active", "userId": AGENT})
    fs.wait_idle()
    assert "2 FreeScout tickets from 2 customers wait" in demand_comments(gh, number)[0]
    assert len(demand_comments(gh, number)) == 1


def test_relink_moves_the_ticket_and_unlink_clears_both_sides(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    start_bridge()
    old = gh.post("/_sim/issues", {"title": "Old guess"})["number"]
    new = gh.post("/_sim/issues", {"title": "The real bug"})["number"]
    ticket = fs.email(tags=[])
    cid = ticket["id"]
    fs.wait_idle()
    note(fs, cid, f"#github link {old}")
    note(fs, cid, f"#github link {new}")
    assert fs.field(cid).endswith(f"/issues/{old}")
    assert sum("#github relink" in r for r in replies(fs, cid)) == 1  # linked elsewhere: says how
    note(fs, cid, f"#github relink acme/app#{new}")
    assert fs.field(cid).endswith(f"/issues/{new}")
    assert len(records(gh, old, "unlink")) == 1 and len(records(gh, new)) == 1
    note(fs, cid, "#github unlink")
    assert fs.field(cid) == "unlinked"
    assert len(records(gh, new, "unlink")) == 1
    assert len(replies(fs, cid)) == 4
    # Unlinked by an agent: a trigger tag and a customer reply do not link it again.
    fs.post(f"/_sim/conversations/{cid}/tags", {"tags": ["bug"]})
    fs.post(f"/_sim/conversations/{cid}/customer-reply", {"body": "<p>any news?</p>"})
    fs.wait_idle()
    assert [i["number"] for i in gh.issues()] == [old, new] and fs.field(cid) == "unlinked"
    # ... but a command does.
    note(fs, cid, f"#github link {old}")
    assert fs.field(cid).endswith(f"/issues/{old}") and len(records(gh, old)) == 2


@pytest.mark.parametrize(
    ("seed", "ref", "says"),
    [
        (None, "other/repo#3", "is in another repository"),
        ({"title": "done", "state": "closed", "state_reason": "completed"}, "{n}", "is closed"),
        ({"title": "a fix", "pull_request": True}, "{n}", "is a pull request"),
        (None, "4242", "there is no issue"),
        ({"title": "x"}, "https://github.com/acme/app/pull/{n}", "is a pull request"),
    ],
)
def test_each_refusal_is_one_reply_and_nothing_else(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge, seed: dict[str, Any] | None, ref: str, says: str
) -> None:
    start_bridge()
    n = gh.post("/_sim/issues", seed)["number"] if seed else 0
    ticket = fs.email(tags=[])
    fs.wait_idle()
    note(fs, ticket["id"], f"#github link {ref.format(n=n)}")
    (reply,) = replies(fs, ticket["id"])
    assert says in reply
    assert github_writes(gh) == [] and fs.field(ticket["id"]) == ""


def test_already_linked_elsewhere_is_refused_with_how_to_relink(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    start_bridge()
    ticket = fs.email(tags=["bug"])
    fs.wait_idle()
    (own,) = gh.issues()
    other = gh.post("/_sim/issues", {"title": "Another bug"})["number"]
    writes = github_writes(gh)
    note(fs, ticket["id"], f"#github link {other}")
    (reply,) = replies(fs, ticket["id"])
    assert f"#github relink acme/app#{other}" in reply and "#github unlink" in reply
    assert github_writes(gh) == writes and fs.field(ticket["id"]) == own["html_url"]


def test_concurrent_deliveries_of_one_command_write_once(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(register=False)
    number = gh.post("/_sim/issues", {"title": "Shared bug"})["number"]
    ticket = fs.email(tags=[])
    cid = ticket["id"]
    fs.post(
        f"/_sim/conversations/{cid}/agent-note", {"body": f"<p>#github link {number}</p>", "userId": AGENT}
    )
    body = fs.conversation(cid)
    body.get("_embedded", {}).pop("tags", None)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: signed_delivery(bridge, body, "convo.note.created"), range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    reasons = sorted(json.loads(a.content)["reason"] for a in answers)
    assert reasons == ["command_done"] * 7 + ["linked"]
    assert len(records(gh, number)) == 1
    assert field_writes(fs, cid) == 1
    assert len(replies(fs, cid)) == 1


def test_shadow_mode_answers_a_command_with_nothing_written(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(FLAG_FREESCOUT_GITHUB_AUTOLINK="off")
    number = gh.post("/_sim/issues", {"title": "Shared bug"})["number"]
    ticket = fs.email(tags=[])
    fs.wait_idle()
    note(fs, ticket["id"], f"#github link {number}")
    assert github_writes(gh) == [] and fs.bot_notes(ticket["id"]) == [] and fs.field(ticket["id"]) == ""
    assert [r["method"] for r in fs.requests()] == ["GET"] * len(fs.requests())
    assert "would_command" in [d["outcome"] for d in bridge.deliveries_logged()]


def test_customer_emails_reach_the_demand_comment_only_when_allowed(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge, tmp_path: Path
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text("[github]\ninclude_customer_email = true\n")
    start_bridge(BRIDGE_CONFIG=str(config))
    number = gh.post("/_sim/issues", {"title": "Shared bug"})["number"]
    for email in ("ana@one.example", "bo@two.example"):
        ticket = fs.email(tags=[], email=email)
        fs.wait_idle()
        note(fs, ticket["id"], f"#github link {number}")
    (demand,) = demand_comments(gh, number)
    assert "`ana@one.example`" in demand and "`bo@two.example`" in demand
