"""The two local simulators on loopback ports (uvicorn in threads) and clients of their control planes.

Every suite starts them here: ``running_freescout`` and ``running_github`` (or both at once with
``running_simulators``) yield a client whose ``.url`` is what the bridge is pointed at and whose methods
drive the simulator's ``/_sim`` control plane: seed state, inject faults, read what was received.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

from bridge.vocab import conversation_ids_in
from sandbox import freescout_sim, github_sim
from sandbox.client import REPO as REPO
from sandbox.client import FreeScoutClient, GitHubClient, SimClient
from sandbox.freescout_sim import FreeScoutSimConfig
from sandbox.github_sim import GitHubSimConfig
from sandbox.serve import ServerThread
from tests.sandbox import openapi_check

FS_KEY = FreeScoutSimConfig.api_key
FS_SECRET = FreeScoutSimConfig.webhook_secret
BOT_USER_ID = FreeScoutSimConfig.bot_user_id
GH_TOKEN = GitHubSimConfig.token

#: FreeScout's ten delivery attempts (minutes apart in production) compressed into seconds.
FAST_RETRIES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class ControlPlane(SimClient):
    """What both simulators' ``/_sim`` planes share: recorded requests, state, reset and faults."""

    def post(self, path: str, body: Mapping[str, Any] | list[Any] | None = None) -> Any:
        # ASCII-escaped like PHP's json_encode, so any text survives (even a lone surrogate "\\ud800").
        content = json.dumps(body if body is not None else {})
        response = self.http.post(path, content=content, headers={"Content-Type": "application/json"})
        response.raise_for_status()
        return response.json() if response.content else None

    def requests(self) -> list[dict[str, Any]]:
        """Every API request the simulator received (the control plane is not recorded)."""
        return list(self.get("/_sim/requests")["requests"])

    def clear_requests(self) -> None:
        self.http.delete("/_sim/requests").raise_for_status()

    def writes(self) -> list[dict[str, Any]]:
        return [r for r in self.requests() if r["method"] in ("POST", "PATCH", "PUT", "DELETE")]

    def state(self) -> dict[str, Any]:
        return dict(self.get("/_sim/state"))

    def reset(self) -> None:
        self.post("/_sim/reset")

    def fault(self, **spec: Any) -> None:
        """One fault (see ``sandbox/faults.py``), e.g. ``fault(method="POST", path="/issues$", kind="slow")``."""
        self.post("/_sim/faults", spec)

    def faults(self) -> list[dict[str, Any]]:
        return list(self.get("/_sim/faults")["faults"])

    def clear_faults(self) -> None:
        self.http.delete("/_sim/faults").raise_for_status()


class FreeScout(ControlPlane, FreeScoutClient):
    """The FreeScout simulator: customers write in, agents tag, and its REST API as the bridge sees it."""

    def email(
        self,
        subject: str = "CSV export fails with error 500",
        tags: list[str] | None = None,
        mailbox: int = 2,
        body: str = "<p>Every CSV export ends with an error 500.</p>",
        email: str = "dana@example.com",
    ) -> dict[str, Any]:
        """A customer emails ``mailbox``; an agent has tagged the conversation ``tags`` (default ``bug``)."""
        result: dict[str, Any] = self.post(
            "/_sim/conversations",
            {
                "mailboxId": mailbox,
                "subject": subject,
                "body": body,
                "customerEmail": email,
                "customerFirstName": "Dana",
                "tags": tags if tags is not None else ["bug"],
            },
        )
        return result

    def bot_notes(self, conversation_id: int, bot: int = BOT_USER_ID) -> list[dict[str, Any]]:
        threads = self.conversation(conversation_id)["_embedded"]["threads"]
        return [t for t in threads if t["type"] == "note" and (t.get("createdBy") or {}).get("id") == bot]

    def register_webhook(self, url: str, events: list[str]) -> None:
        self.post("/_sim/webhooks", {"url": url, "events": events})

    def api(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """FreeScout's REST API with the simulator's key, e.g. ``api("GET", "/conversations/1")``."""
        response = self.http.request(
            method,
            f"/api{path}",
            content=json.dumps(body) if body is not None else None,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-FreeScout-API-Key": FS_KEY,
            },
        )
        response.raise_for_status()
        return response.json() if response.content else {}


class GitHub(ControlPlane, GitHubClient):
    """The GitHub simulator: issues and comments as stored, and how the bridge's writes were paced."""

    def seed_issue(self, **spec: Any) -> dict[str, Any]:
        """An issue created by a person (not the bridge), e.g. ``seed_issue(title=..., labels=[...])``."""
        issue: dict[str, Any] = self.post("/_sim/issues", spec)
        return issue

    def issues_for(self, conversation_id: int) -> list[dict[str, Any]]:
        """The issues whose hidden marker names this conversation (the bridge files exactly one)."""
        return [i for i in self.issues() if conversation_id in conversation_ids_in(i.get("body"))]

    def markers_per_conversation(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for issue in self.issues():
            for cid in conversation_ids_in(issue.get("body")):
                counts[cid] = counts.get(cid, 0) + 1
        return counts

    def violations(self) -> int:
        """How often the bridge broke GitHub's write etiquette (secondary limits, retry-after windows)."""
        return int(self.get("/_sim/stats")["violations"])


@contextmanager
def running_freescout(config: FreeScoutSimConfig | None = None) -> Iterator[FreeScout]:
    """The FreeScout simulator on a free loopback port (default settings: FreeScout's real retry plan)."""
    with ServerThread(freescout_sim.create_app(config or FreeScoutSimConfig())) as server:
        sim = FreeScout(server.url)
        try:
            yield sim
        finally:
            sim.close()


@contextmanager
def running_github(config: GitHubSimConfig | None = None, *, check_traffic: bool = False) -> Iterator[GitHub]:
    """The GitHub simulator on a free loopback port.

    With ``check_traffic``, every request it received (and every successful answer) is checked against
    GitHub's official REST description when the block ends: a schema violation fails the test.
    """
    with ServerThread(github_sim.create_app(config or GitHubSimConfig())) as server:
        sim = GitHub(server.url)
        try:
            yield sim
            traffic = sim.requests() if check_traffic else []
        finally:
            sim.close()
    problems = openapi_check.traffic_errors(traffic)
    assert not problems, "GitHub traffic breaks GitHub's REST description:\n" + "\n".join(problems)


@contextmanager
def running_simulators(
    fs_config: FreeScoutSimConfig | None = None,
    gh_config: GitHubSimConfig | None = None,
    *,
    check_traffic: bool = False,
) -> Iterator[tuple[FreeScout, GitHub]]:
    """Both simulators; see ``running_freescout`` and ``running_github``."""
    with ExitStack() as stack:
        fs = stack.enter_context(running_freescout(fs_config))
        gh = stack.enter_context(running_github(gh_config, check_traffic=check_traffic))
        yield fs, gh
