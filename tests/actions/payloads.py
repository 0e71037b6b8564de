"""Real ``issues`` payloads from npm @octokit/webhooks-examples@7.6.1, changed one field at a time."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

GITHUB_FIXTURES = Path(__file__).parent.parent / "fixtures" / "github"
REPOSITORY = "Codertocat/Hello-World"
ISSUE_URL = "https://github.com/Codertocat/Hello-World/issues/1"


def payload(name: str = "issues.labeled.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GITHUB_FIXTURES / name).read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def labeled(
    label: str = "customer-reported",
    *,
    name: str = "issues.labeled.json",
    labels: list[str] | None = None,
    pull_request: bool = False,
    sender: str | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """The real ``labeled`` example with the added label (and optionally one other field) replaced."""
    data = payload(name)
    data["label"]["name"] = label
    data["label"]["url"] = data["label"]["url"].rsplit("/", 1)[0] + "/" + label
    template = data["issue"]["labels"][0]
    names = [label] if labels is None else labels
    data["issue"]["labels"] = [
        {**template, "name": n, "url": template["url"].rsplit("/", 1)[0] + "/" + n} for n in names
    ]
    if pull_request:
        data["issue"]["pull_request"] = {
            "url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1",
            "html_url": "https://github.com/Codertocat/Hello-World/pull/1",
            "diff_url": "https://github.com/Codertocat/Hello-World/pull/1.diff",
            "patch_url": "https://github.com/Codertocat/Hello-World/pull/1.patch",
        }
    if sender is not None:
        data["sender"]["login"] = sender
    if body is not None:
        data["issue"]["body"] = body
    return data
