"""The Actions script against the local simulators, run as a subprocess the way a workflow step runs it.

One FreeScout simulator and one GitHub simulator (``sandbox``) serve the whole module on loopback;
every test starts from ``POST /_sim/reset``. ``Harness.run`` writes a payload file, runs
``python -m bridge.actions.sync`` with a clean environment pointing at both, and checks on every run that
neither secret nor the issue body leaks into stdout, stderr or the step summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox import freescout_sim, github_sim
from sandbox.asgi import RAW_SEND_KEY, drop_connection
from sandbox.serve import ServerThread
from tests.actions.payloads import REPOSITORY, labeled

ROOT = Path(__file__).resolve().parents[2]
FS_KEY = freescout_sim.FreeScoutSimConfig.api_key
GH_TOKEN = github_sim.GitHubSimConfig.token
BOT = freescout_sim.FreeScoutSimConfig.bot_user_id
OPS_MAILBOX_ID = 1  # the simulator's demo "Ops" mailbox, ops@example.com, github_issue_url field id 12
OPS_FIELD_ID = 12
CUSTOMER = "engineering@example.com"
BODY_CANARY = "BODY-CANARY-7f3a"


class LoseCreateResponses:
    """Fault wrapper for the FreeScout simulator: perform ``POST /api/conversations``, then drop the
    connection without answering (the create happened, the client never learns it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.remaining = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hit = scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/api/conversations"
        if not hit or self.remaining <= 0:
            await self.app(scope, receive, send)
            return
        self.remaining -= 1

        async def swallow(message: Message) -> None:
            return None

        await self.app(scope, receive, swallow)
        scope[RAW_SEND_KEY] = send
        if not await drop_connection(scope, abort=False):
            raise RuntimeError("could not drop the connection")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    summary: str

    def errors(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::error")]

    def warnings(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::warning")]


class Harness:
    def __init__(self, fs: ServerThread, gh: ServerThread, lose: LoseCreateResponses, tmp: Path) -> None:
        self.fs_url = fs.url
        self.gh_url = gh.url
        self.lose = lose
        self.tmp = tmp
        self.http = httpx.Client(timeout=10)
        self.runs = 0

    # -- control planes ---------------------------------------------------------------------------------
    def reset(self) -> None:
        for url in (self.fs_url, self.gh_url):
            self.http.post(url + "/_sim/reset").raise_for_status()
        self.lose.remaining = 0

    def seed_issue(self, **spec: Any) -> dict[str, Any]:
        spec.setdefault("repo", REPOSITORY)
        spec.setdefault("title", "Export crashes on save")
        spec.setdefault("body", f"Steps: open, save.\n{BODY_CANARY}\n<script>alert(1)</script>")
        response = self.http.post(self.gh_url + "/_sim/issues", json=spec)
        response.raise_for_status()
        issue: dict[str, Any] = response.json()
        assert issue["number"] == 1, "the fixtures talk about issue #1"
        return issue

    def seed_conversation(self, mailbox_id: int = 2) -> int:
        response = self.http.post(
            self.fs_url + "/_sim/conversations",
            json={"mailboxId": mailbox_id, "customerEmail": "dana@example.com", "subject": "Hi", "body": "x"},
        )
        response.raise_for_status()
        self.http.delete(self.fs_url + "/_sim/requests")
        return int(response.json()["id"])

    def gh_fault(self, **spec: Any) -> None:
        self.http.post(self.gh_url + "/_sim/faults", json=spec).raise_for_status()

    def fs_fault(self, **spec: Any) -> None:
        self.http.post(self.fs_url + "/_sim/faults", json=spec).raise_for_status()

    def clear_gh_faults(self) -> None:
        self.http.delete(self.gh_url + "/_sim/faults").raise_for_status()

    def fs_requests(self) -> list[dict[str, Any]]:
        requests: list[dict[str, Any]] = self.http.get(self.fs_url + "/_sim/requests").json()["requests"]
        return requests

    def gh_requests(self) -> list[dict[str, Any]]:
        requests: list[dict[str, Any]] = self.http.get(self.gh_url + "/_sim/requests").json()["requests"]
        return requests

    def fs_writes(self) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.fs_requests() if r["method"] != "GET"]

    def gh_writes(self) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.gh_requests() if r["method"] != "GET"]

    def conversations(self) -> list[dict[str, Any]]:
        conversations: list[dict[str, Any]] = self.http.get(self.fs_url + "/_sim/state").json()[
            "conversations"
        ]
        return conversations

    def comments(self) -> list[str]:
        issues = self.http.get(self.gh_url + "/_sim/state").json()["repos"][0]["issues"]
        return [c["body"] for c in issues[0]["comment_list"]] if issues else []

    # -- the script ---------------------------------------------------------------------------------------
    def env(self, **overrides: str | None) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "GITHUB_EVENT_NAME": "issues",
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": self.gh_url,
            "GITHUB_TOKEN": GH_TOKEN,
            "FREESCOUT_URL": self.fs_url,
            "FREESCOUT_API_KEY": FS_KEY,
            "FREESCOUT_BOT_USER_ID": str(BOT),
            "FREESCOUT_OPS_MAILBOX": "ops@example.com",
            "FREESCOUT_TICKET_CUSTOMER_EMAIL": CUSTOMER,
            "FLAG_FREESCOUT_GITHUB_AUTOLINK": "true",
            # The simulators answer at once: writes in doubt need seconds of patience here, not minutes.
            "FREESCOUT_IN_DOUBT_SECONDS": "4",
            "GITHUB_IN_DOUBT_SECONDS": "4",
            "FREESCOUT_TIMEOUT_SECONDS": "3",
            "GITHUB_TIMEOUT_SECONDS": "3",
        }
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def run(self, data: dict[str, Any] | None = None, **overrides: str | None) -> Result:
        self.runs += 1
        event = self.tmp / f"event-{self.runs}.json"
        summary = self.tmp / f"summary-{self.runs}.md"
        event.write_text(json.dumps(data if data is not None else labeled()), encoding="utf-8")
        summary.write_text("", encoding="utf-8")
        env = {"GITHUB_EVENT_PATH": str(event), "GITHUB_STEP_SUMMARY": str(summary), **self.env(**overrides)}
        env = {k: v for k, v in env.items() if v is not None}
        proc = subprocess.run(
            [sys.executable, "-m", "bridge.actions.sync"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr, summary.read_text(encoding="utf-8"))
        self._assert_nothing_leaked(result, env)
        return result

    @staticmethod
    def _assert_nothing_leaked(result: Result, env: dict[str, str]) -> None:
        secrets = [env.get("GITHUB_TOKEN", ""), env.get("FREESCOUT_API_KEY", "")]
        for secret in filter(None, secrets):
            masked = [line for line in result.stdout.splitlines() if secret in line]
            assert masked == [f"::add-mask::{secret}"], "a secret was printed outside ::add-mask::"
            assert secret not in result.stderr and secret not in result.summary
        for text in (result.stdout, result.stderr, result.summary):
            assert BODY_CANARY not in text, "the issue body reached the log or the summary"
        assert result.summary.startswith("### FreeScout sync: "), "every run writes a step summary"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerThread, ServerThread, LoseCreateResponses]]:
    lose = LoseCreateResponses(freescout_sim.create_app(freescout_sim.FreeScoutSimConfig()))
    gh_app = github_sim.create_app(github_sim.GitHubSimConfig(repos=(REPOSITORY,)))
    with ServerThread(lose) as fs, ServerThread(gh_app) as gh:
        yield fs, gh, lose


@pytest.fixture
def harness(
    servers: tuple[ServerThread, ServerThread, LoseCreateResponses], tmp_path: Path
) -> Iterator[Harness]:
    fs, gh, lose = servers
    h = Harness(fs, gh, lose, tmp_path)
    h.reset()
    yield h
    h.http.close()


@pytest.fixture
def h(harness: Harness) -> Harness:
    """Short alias used by the subprocess tests."""
    return harness
