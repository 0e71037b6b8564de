"""Upstreams for the hardening tests: the local FreeScout simulator on a loopback port, a recording GitHub.

The simulator's ``GET /_sim/requests`` is the witness for "no upstream call": tests clear it after the
bridge's start-up mailbox list and read it after the deliveries they drive.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest

from bridge.github_api import IssueRef
from bridge.settings import BridgeConfig, Settings, load_settings
from sandbox import freescout_sim, github_sim
from sandbox.freescout_sim import FreeScoutSimConfig
from sandbox.github_sim import GitHubSimConfig
from sandbox.serve import ServerThread
from tests.helpers import SECRET

FS = FreeScoutSimConfig()
GITHUB_TOKEN = GitHubSimConfig().token
ADMIN_TOKEN = "admin-token-5e1f9c0b7a"
REPOSITORY = "acme/app"


@dataclass
class Sim:
    """A running simulator: its base URL and its control plane."""

    url: str

    def requests(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/_sim/requests").json()["requests"])

    def clear_requests(self) -> None:
        httpx.delete(f"{self.url}/_sim/requests").raise_for_status()

    def state(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/_sim/state").json())

    def api(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """FreeScout's REST API (the API answers in PHP-style ASCII JSON, so any text survives)."""
        response = httpx.request(
            method,
            f"{self.url}/api{path}",
            content=json.dumps(body),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-FreeScout-API-Key": FS.api_key,
            },
        )
        response.raise_for_status()
        return dict(response.json()) if response.content else {}

    def control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        content = json.dumps(
            body
        )  # ASCII-escaped, so lone surrogates travel as "\\ud800" like PHP sends them
        response = httpx.post(
            f"{self.url}/_sim{path}", content=content, headers={"Content-Type": "application/json"}
        )
        response.raise_for_status()
        return dict(response.json()) if response.content else {}


@pytest.fixture(scope="session")
def freescout() -> Iterator[Sim]:
    with ServerThread(freescout_sim.create_app(FS)) as server:
        yield Sim(server.url)


@pytest.fixture(scope="session")
def github() -> Iterator[Sim]:
    with ServerThread(github_sim.create_app(GitHubSimConfig())) as server:
        yield Sim(server.url)


def bridge_env(freescout_url: str, github_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    return {
        "FREESCOUT_URL": freescout_url,
        "FREESCOUT_API_KEY": FS.api_key,
        "FREESCOUT_WEBHOOK_SECRET": SECRET,
        "FREESCOUT_BOT_USER_ID": str(FS.bot_user_id),
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": github_url,
        "GITHUB_ISSUE_BOT_TOKEN": GITHUB_TOKEN,
        "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
        "FLAG_FREESCOUT_GITHUB_AUTOLINK": "true",
        "SWEEP_INTERVAL_SECONDS": "0",
    }


def bridge_settings(freescout_url: str, github_url: str = "http://127.0.0.1:9", **config: Any) -> Settings:
    return load_settings(bridge_env(freescout_url, github_url), config=BridgeConfig(**config))


@dataclass
class RecordingGitHub:
    """Stands in for ``GitHubIssues`` where a test needs to count GitHub calls, not to see issues."""

    repository: str = REPOSITORY
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def probe(self) -> dict[str, Any]:
        self.calls.append(("probe", ()))
        return {}

    def find_linked_issue(self, conversation_id: int, since: datetime | None) -> IssueRef | None:
        self.calls.append(("find_linked_issue", (conversation_id,)))
        return None

    def create_issue(self, title: str, body: str, labels: Any) -> IssueRef:
        self.calls.append(("create_issue", (title, body, tuple(labels))))
        number = len(self.calls)
        return IssueRef(number, f"https://github.com/{self.repository}/issues/{number}", tuple(labels))

    def has_comment_with(self, number: int, marker: str) -> bool:
        self.calls.append(("has_comment_with", (number, marker)))
        return False

    def create_comment(self, number: int, body: str) -> None:
        self.calls.append(("create_comment", (number, body)))


def loopback_client(base_url: str) -> httpx.Client:
    """A client with TCP_NODELAY: without it, headers and body in two writes wait 40 ms for a delayed ACK."""
    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.Client(base_url=base_url, timeout=10, transport=transport)


def assert_refusal(response: httpx.Response) -> None:
    """Every 4xx carries exactly ``{"error": str, "message": str}``."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error", "message"}, body
    assert isinstance(body["error"], str) and isinstance(body["message"], str)
