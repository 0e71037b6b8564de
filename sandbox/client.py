"""A small client for the simulators' ``/_sim`` control planes, shared by the demo and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

REPO = "acme/app"


class SimClient:
    """JSON in, JSON out, errors raised; one ``httpx.Client`` per simulator."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=60)

    def post(self, path: str, body: Mapping[str, Any] | list[Any] | None = None) -> Any:
        response = self.http.post(path, json=body if body is not None else {})
        response.raise_for_status()
        return response.json() if response.content else None

    def get(self, path: str) -> Any:
        response = self.http.get(path)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.http.close()


class FreeScoutClient(SimClient):
    def conversations(self) -> list[dict[str, Any]]:
        return list(self.get("/_sim/state")["conversations"])

    def conversation(self, conversation_id: int) -> dict[str, Any]:
        found = next((c for c in self.conversations() if c["id"] == conversation_id), None)
        if found is None:
            raise KeyError(conversation_id)
        return dict(found)

    def field(self, conversation_id: int, name: str = "github_issue_url") -> str:
        conv = self.conversation(conversation_id)
        return str(next((f["value"] for f in conv.get("customFields", []) if f["name"] == name), ""))

    def wait_idle(self, timeout: float = 60) -> None:
        """Until every queued webhook delivery (and its retries) is done."""
        response = self.http.post("/_sim/wait-idle", json={"timeout": timeout}, timeout=timeout + 5)
        if response.status_code != 200:
            raise TimeoutError(f"FreeScout simulator still delivering: {response.text}")

    def deliveries(self) -> list[dict[str, Any]]:
        return list(self.get("/_sim/deliveries")["deliveries"])


class GitHubClient(SimClient):
    def issues(self, repo: str = REPO) -> list[dict[str, Any]]:
        state = next(r for r in self.get("/_sim/state")["repos"] if r["full_name"] == repo)
        return [i for i in state["issues"] if not i.get("pull_request")]

    def issue(self, number: int) -> dict[str, Any]:
        return next(i for i in self.issues() if i["number"] == number)

    def comments(self, number: int) -> list[str]:
        return [str(c.get("body") or "") for c in self.issue(number).get("comment_list", [])]
