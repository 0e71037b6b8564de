"""End-to-end rig for GitHub → FreeScout over the web transport: issues linked to tickets, signed hooks.

Links are set up as the bridge records them (the opener marker in the issue body, link record comments by
the bridge's login, the ticket's ``github_issue_url``) directly on the simulators, so these tests do not
depend on the note commands. Waiting is by condition (``wait_until``), never by a fixed sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge.vocab import closed_notice_key, issue_marker, link_record_marker, notice_keys_in
from tests.harness import REPO, Bridge, FreeScout, GitHub

SECRET = "gh-webhook-secret"
BOT = 9
BRIDGE_LOGIN = "bridge-bot"  # the GitHub simulator's token user: the bridge's own login


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Linked:
    number: int
    url: str
    tickets: list[int]


def ticket(fs: FreeScout, status: str = "pending", subject: str = "Export fails") -> int:
    """A ticket with no trigger tag (Direction A leaves it alone) in the given status."""
    conv = fs.email(subject=subject, tags=[])
    if status != "active":
        fs.post(f"/_sim/conversations/{conv['id']}/agent-status", {"status": status, "userId": 1})
    return int(conv["id"])


def set_field(fs: FreeScout, conversation_id: int, value: str) -> None:
    conv = fs.conversation(conversation_id)
    field_id = next(f["id"] for f in conv["customFields"] if f["name"] == "github_issue_url")
    fs.post(
        f"/_sim/conversations/{conversation_id}/custom-fields",
        {"customFields": [{"id": field_id, "value": value}]},
    )


def link_issue(fs: FreeScout, gh: GitHub, tickets: list[int], title: str = "CSV export 500") -> Linked:
    """One issue opened for ``tickets[0]`` (body marker) and link records for the others, fields set."""
    body = f"Every export fails.\n\n{issue_marker(tickets[0])}"
    issue = gh.post("/_sim/issues", {"title": title, "body": body, "labels": ["freescout-linked"]})
    number, url = int(issue["number"]), str(issue["html_url"])
    for k, cid in enumerate(tickets[1:], start=1):
        record = (
            f"{link_record_marker('link', cid, 500 + k)}\nFreeScout ticket #{cid} now waits on this issue."
        )
        gh.post(f"/_sim/issues/{number}/comments", {"user": BRIDGE_LOGIN, "type": "User", "body": record})
    fs.wait_idle()  # the tickets' own events reach the bridge before they are linked
    for cid in tickets:
        set_field(fs, cid, url)
    fs.wait_idle()
    return Linked(number, url, tickets)


def hook(gh: GitHub, bridge: Bridge, secret: str = SECRET, **extra: Any) -> dict[str, Any]:
    spec = {"url": f"{bridge.url}/api/webhooks/github", "secret": secret, **extra}
    result: dict[str, Any] = gh.post("/_sim/hooks", spec)
    gh.post("/_sim/hooks/wait-idle")
    return result


def deliveries(gh: GitHub, event: str | None = None) -> list[dict[str, Any]]:
    found = list(gh.get("/_sim/hooks/deliveries")["deliveries"])
    return [d for d in found if event is None or d["event"] == event]


def notices(fs: FreeScout, conversation_id: int) -> list[str]:
    """Every notice key on the ticket, one per bridge note (a doubled note shows twice)."""
    threads = sorted(fs.conversation(conversation_id)["_embedded"]["threads"], key=lambda t: t["id"])
    return [k for t in threads if t["type"] == "note" for k in notice_keys_in(t.get("body") or "")]


def note_with(fs: FreeScout, conversation_id: int, key: str) -> str:
    """The body of the bridge note carrying ``key``."""
    threads = fs.conversation(conversation_id)["_embedded"]["threads"]
    return str(next(t["body"] for t in threads if t["type"] == "note" and key in notice_keys_in(t["body"])))


def close_key(gh: GitHub, number: int) -> str:
    return closed_notice_key(REPO, number, str(gh.issue(number)["closed_at"]))


def fan_outs(bridge: Bridge) -> list[dict[str, Any]]:
    import json

    return [
        json.loads(line) for line in bridge.log_lines() if line.startswith("{") and '"github_fan_out"' in line
    ]


def github_writes(gh: GitHub) -> list[dict[str, Any]]:
    """What the bridge wrote to GitHub (the control plane is not recorded)."""
    return [r for r in gh.requests() if r["method"] in ("POST", "PATCH", "PUT", "DELETE")]
