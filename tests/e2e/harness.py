"""End-to-end harness: the two local simulators in threads and the real bridge as a uvicorn process.

Everything speaks real HTTP over loopback. Tests drive the outside world through the simulators'
``/_sim`` control planes and assert on what each side received and stored.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from bridge.vocab import WEBHOOK_EVENTS
from sandbox.client import FreeScoutClient, GitHubClient
from sandbox.freescout_state import FreeScoutSimConfig
from sandbox.github_sim import GitHubSimConfig

ROOT = Path(__file__).resolve().parents[2]
FS_KEY = FreeScoutSimConfig().api_key
FS_SECRET = FreeScoutSimConfig().webhook_secret
GH_TOKEN = GitHubSimConfig().token
REPO = "acme/app"
EVENTS = list(WEBHOOK_EVENTS)


class FreeScout(FreeScoutClient):
    def email(
        self,
        subject: str = "CSV export fails with error 500",
        tags: list[str] | None = None,
        mailbox: int = 2,
        body: str = "<p>Every CSV export ends with an error 500.</p>",
        email: str = "dana@example.com",
    ) -> dict[str, Any]:
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

    def bot_notes(self, conversation_id: int, bot: int = 9) -> list[dict[str, Any]]:
        threads = self.conversation(conversation_id)["_embedded"]["threads"]
        return [t for t in threads if t["type"] == "note" and (t.get("createdBy") or {}).get("id") == bot]

    def api_requests(self) -> list[dict[str, Any]]:
        return list(self.get("/_sim/requests")["requests"])


class GitHub(GitHubClient):
    def requests(self) -> list[dict[str, Any]]:
        return list(self.get("/_sim/requests")["requests"])

    def writes(self) -> list[dict[str, Any]]:
        return [r for r in self.requests() if r["method"] in ("POST", "PATCH", "PUT", "DELETE")]

    def fault(self, **spec: Any) -> None:
        self.post("/_sim/faults", spec)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bridge_env(fs_url: str, gh_url: str, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FREESCOUT_", "FLAG_"))}
    env.update(
        {
            "FREESCOUT_URL": fs_url,
            "FREESCOUT_API_KEY": FS_KEY,
            "FREESCOUT_WEBHOOK_SECRET": FS_SECRET,
            "FREESCOUT_BOT_USER_ID": "9",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": gh_url,
            "GITHUB_ISSUE_BOT_TOKEN": GH_TOKEN,
            "FLAG_FREESCOUT_GITHUB_AUTOLINK": "true",
            "SWEEP_INTERVAL_SECONDS": "0",
            "BRIDGE_CONFIG": str(ROOT / "config" / "bridge.toml"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


class Bridge:
    """The real bridge: ``uvicorn bridge.app:app_from_env --factory`` in a subprocess."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._env = dict(env)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bridge.app:app_from_env",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
            ],
            env=self._env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("bridge exited:\n" + self.log_path.read_text())
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("bridge did not start:\n" + self.log_path.read_text())

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def webhook_url(self, route: str = "support") -> str:
        return f"{self.url}/api/webhooks/freescout/{route}"

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def deliveries_logged(self) -> list[dict[str, Any]]:
        import json

        out = []
        for line in self.log_lines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("msg") == "delivery":
                    out.append(entry)
        return out
