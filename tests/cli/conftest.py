"""A deployment on the local simulators, driven through the real command line in a subprocess.

``servers`` starts the FreeScout and GitHub simulators once per module; ``deployment`` resets both for
each test, writes a config file and runs ``python -m bridge ...`` with an environment that points at
them. The GitHub simulator starts without the bridge's own labels, so ``check`` has something to fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox import freescout_sim, github_sim
from sandbox.serve import ServerThread

FS_API_KEY = "fs-sim-api-key-0123456789abcdef"
WEBHOOK_SECRET = "0123456789abcdef0123456789abcdef"
GH_TOKEN = "gh-sim-token"
REPOSITORY = "acme/app"
BOT_USER_ID = 9
ROOT = Path(__file__).resolve().parents[2]
GOOD_MAILBOXES = ("ops@example.com", "support@example.com")
PARTIAL_LABELS = ("bug", "enhancement")  # the bridge's own labels are missing
RUN_TIMEOUT = 60


class Deployment:
    """The simulators plus the environment and config file of one bridge deployment."""

    def __init__(self, fs: ServerThread, gh: ServerThread, tmp: Path) -> None:
        self.fs = fs
        self.gh = gh
        self.tmp = tmp
        self.http = httpx.Client(timeout=10)
        self.config_path = tmp / "bridge.toml"
        self.env: dict[str, str] = {
            "PATH": os.environ.get("PATH", ""),
            "FREESCOUT_URL": fs.url,
            "FREESCOUT_API_KEY": FS_API_KEY,
            "FREESCOUT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "FREESCOUT_BOT_USER_ID": str(BOT_USER_ID),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": gh.url,
            "GITHUB_ISSUE_BOT_TOKEN": GH_TOKEN,
            "BRIDGE_CONFIG": str(self.config_path),
            "TMPDIR": str(
                tmp
            ),  # the host's sweep lock file, per test (a sweep elsewhere on the host holds its own)
        }
        self.configure()

    def reset(self) -> None:
        for server in (self.fs, self.gh):
            self.http.post(f"{server.url}/_sim/reset").raise_for_status()

    def configure(self, mailboxes: tuple[str | int, ...] = GOOD_MAILBOXES) -> None:
        """Write the config file: these mailboxes, no write spacing (tests must not wait on etiquette)."""
        listed = ", ".join(json.dumps(m) for m in mailboxes)
        self.config_path.write_text(
            f"[autolink]\nmailboxes = [{listed}]\n\n[github]\nwrite_spacing_seconds = 0\n", encoding="utf-8"
        )

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """``python -m bridge ARGS`` with this deployment's environment (plus ``env`` overrides)."""
        return subprocess.run(
            [sys.executable, "-m", "bridge", *args],
            env={**self.env, **env},
            cwd=self.tmp,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=RUN_TIMEOUT,
            check=False,
        )

    def run_json(self, *args: str, **env: str) -> tuple[int, dict[str, Any]]:
        result = self.run(*args, "--json", **env)
        data = json.loads(result.stdout)  # one JSON object, nothing else, on stdout
        assert isinstance(data, dict)
        return result.returncode, data

    def conversation(self, mailbox_id: int, tags: list[str], subject: str = "CSV export fails") -> int:
        """A customer emails ``mailbox_id``; an agent has tagged the conversation ``tags``."""
        response = self.http.post(
            f"{self.fs.url}/_sim/conversations",
            json={
                "mailboxId": mailbox_id,
                "customerEmail": "dana@example.com",
                "subject": subject,
                "body": "<p>Every CSV export ends with an error 500.</p>",
                "tags": tags,
            },
        )
        response.raise_for_status()
        return int(response.json()["id"])

    def fs_conversation(self, conversation_id: int) -> dict[str, Any]:
        response = self.http.get(
            f"{self.fs.url}/api/conversations/{conversation_id}",
            params={"embed": "threads,tags"},
            headers={"X-FreeScout-API-Key": FS_API_KEY, "Accept": "application/json"},
        )
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def gh_state(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get(f"{self.gh.url}/_sim/state").json()
        return data

    def gh_requests(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.http.get(f"{self.gh.url}/_sim/requests").json()["requests"]
        return data

    def gh_writes(self) -> list[dict[str, Any]]:
        return [r for r in self.gh_requests() if r.get("method") not in ("GET", "HEAD")]


def start_servers(seed_labels: tuple[str, ...]) -> Iterator[tuple[ServerThread, ServerThread]]:
    fs_app = freescout_sim.create_app(freescout_sim.FreeScoutSimConfig())
    gh_app = github_sim.create_app(github_sim.GitHubSimConfig(repos=(REPOSITORY,), seed_labels=seed_labels))
    with ServerThread(fs_app) as fs, ServerThread(gh_app) as gh:
        yield fs, gh


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerThread, ServerThread]]:
    yield from start_servers(PARTIAL_LABELS)


@pytest.fixture
def deployment(
    servers: tuple[ServerThread, ServerThread], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deployment]:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the same for web processes in this process
    fs, gh = servers
    deployment = Deployment(fs, gh, tmp_path)
    deployment.reset()
    yield deployment
    deployment.http.close()
