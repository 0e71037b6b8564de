"""Builders for the return-path unit tests: real octokit payloads, and FreeScout tickets in API shape."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from bridge.github_model import IssueComment, IssueView, parse_issue_view
from bridge.model import Conversation, parse_conversation
from bridge.vocab import notice_marker

GITHUB = Path(__file__).resolve().parents[2] / "fixtures" / "github"
REPO = "Codertocat/Hello-World"
ISSUE_URL = "https://github.com/Codertocat/Hello-World/issues/1"
BOT = 9
BRIDGE_LOGIN = "issue-bridge[bot]"


def gh(name: str) -> dict[str, Any]:
    """A real octokit webhook payload (``issues.closed`` …), a fresh copy each time."""
    data: dict[str, Any] = json.loads((GITHUB / f"{name}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def issue(name: str = "issues.closed", **changes: Any) -> IssueView:
    """The issue of a real payload, with issue fields replaced by ``changes``."""
    raw = gh(name)["issue"]
    raw.update(changes)
    return parse_issue_view(raw)


def comment(
    cid: int, body: str, *, login: str = "octodev", created_at: str = "", association: str = ""
) -> IssueComment:
    return IssueComment(
        id=cid,
        body=body,
        html_url=f"{ISSUE_URL}#issuecomment-{cid}",
        created_at=created_at or f"2021-10-{10 + cid % 10:02d}T00:00:00Z",
        author_login=login,
        author_association=association,
    )


def note_thread(tid: int, key: str, *, by: int = BOT) -> dict[str, Any]:
    return {
        "id": tid,
        "type": "note",
        "body": notice_marker(key) + "<p>…</p>",
        "createdBy": {"id": by, "type": "user"},
        "createdAt": "2021-10-11T17:00:00Z",
    }


def ticket(
    cid: int = 101,
    *,
    field: str = ISSUE_URL,
    status: str = "pending",
    state: str = "published",
    email: str = "ann@example.com",
    threads: list[dict[str, Any]] | None = None,
) -> Conversation:
    """A conversation as ``GET /api/conversations/{id}?embed=threads`` returns it (threads newest first)."""
    return parse_conversation(
        {
            "id": cid,
            "number": cid + 1000,
            "mailboxId": 1,
            "status": status,
            "state": state,
            "subject": "Export fails",
            "customer": {"email": email},
            "customFields": [{"id": 7, "name": "github_issue_url", "value": field}],
            "_embedded": {"threads": list(reversed(sorted(threads or [], key=lambda t: t["id"])))},
        }
    )
