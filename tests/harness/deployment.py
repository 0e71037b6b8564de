"""One deployment of the bridge on the local simulators: what the process-level suites drive.

A ``Deployment`` holds both simulators, the environment that points every program at them (with its own
``TMPDIR``, so the host's sweep lock is this test's alone), and the web processes started on it. It runs
the other two programs, ``freescout-bridge`` and ``freescout-sync``, with that environment. Suites that
share simulators across tests (``reset`` between them) build a ``Deployment`` per test over them;
``open_deployment`` starts fresh simulators for one test and stops everything at the end.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bridge.vocab import WEBHOOK_EVENTS
from sandbox.freescout_sim import FreeScoutSimConfig
from sandbox.github_sim import GitHubSimConfig
from tests.harness import processes
from tests.harness.processes import Bridge
from tests.harness.sims import FS_SECRET, FreeScout, GitHub, running_simulators
from tests.helpers import signed

EVENTS = list(WEBHOOK_EVENTS)


def wait_for(check: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    """Poll ``check`` until true; fail after ``timeout`` seconds (a guard against hangs, not a timing)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.05)


def _answered(entry: dict[str, Any]) -> bool:
    return entry.get("status") is not None or "fault" in entry


class Deployment:
    def __init__(self, fs: FreeScout, gh: GitHub, tmp: Path, **env: str | None) -> None:
        self.fs = fs
        self.gh = gh
        self.tmp = tmp
        self.env = processes.deployment_env(fs.url, gh.url, TMPDIR=str(tmp), **env)
        self.bridges: list[Bridge] = []
        self._runs = 0

    def configure(self, toml: str) -> Path:
        """Write the bridge's TOML (every key it leaves out keeps its default) and point ``BRIDGE_CONFIG`` at it."""
        path = self.tmp / "bridge.toml"
        path.write_text(toml, encoding="utf-8")
        self.env["BRIDGE_CONFIG"] = str(path)
        return path

    # -- the web process ----------------------------------------------------------------------------------
    def start_bridge(self, register: bool = True, *, procfile: bool = False, **env: str | None) -> Bridge:
        """A web process with this deployment's environment plus ``env``; with ``register``, FreeScout's
        webhook points at it (every event)."""
        log = self.tmp / f"bridge{len(self.bridges)}.log"
        bridge = Bridge(processes.with_overrides(dict(self.env), env), log, procfile=procfile)
        self.bridges.append(bridge)
        bridge.start()
        if register:
            self.fs.register_webhook(bridge.webhook_url(), EVENTS)
        return bridge

    def stop(self) -> None:
        for bridge in self.bridges:
            bridge.stop()

    # -- the operator CLI and the Actions script --------------------------------------------------------------
    def cli(self, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
        """``freescout-bridge ARGS`` with this deployment's environment plus ``env``."""
        return processes.run_cli(processes.with_overrides(dict(self.env), env), *args, cwd=self.tmp)

    def cli_json(self, *args: str, **env: str | None) -> tuple[int, dict[str, Any]]:
        """``freescout-bridge ARGS --json``: its exit code and the one JSON object it prints."""
        done = self.cli(*args, "--json", **env)
        data = json.loads(done.stdout)
        assert isinstance(data, dict), done.stdout
        return done.returncode, data

    def sweep(self, *args: str, **env: str | None) -> dict[str, Any]:
        """``freescout-bridge sweep --json ARGS``, which must succeed; its report."""
        done = self.cli("sweep", "--json", *args, **env)
        assert done.returncode == 0, done.stdout + done.stderr
        report: dict[str, Any] = json.loads(done.stdout)
        return report

    def sync(
        self, event: Mapping[str, Any], **env: str | None
    ) -> tuple[subprocess.CompletedProcess[str], str]:
        """``freescout-sync`` on one ``issues`` event (``workflow_env`` plus ``env``); its step summary too."""
        self._runs += 1
        run_env = processes.workflow_env(self.fs.url, self.gh.url, **env)
        return processes.run_sync(run_env, event, self.tmp, name=f"event-{self._runs}")

    # -- the outside world --------------------------------------------------------------------------------------
    def sim(self, api: str) -> FreeScout | GitHub:
        """The simulator named ``"freescout"`` or ``"github"``."""
        return self.fs if api == "freescout" else self.gh

    def clear_faults(self) -> None:
        self.fs.clear_faults()
        self.gh.clear_faults()

    def settle(self, timeout: float = 30) -> None:
        """Every webhook delivery done and every request either simulator received answered (or dropped):
        a ``slow`` write lands after its client gave up, and the assertions must see it."""
        self.fs.wait_idle(timeout)
        for sim in (self.fs, self.gh):
            wait_for(lambda s=sim: all(_answered(r) for r in s.requests()), timeout, "every request answered")
        self.fs.wait_idle(timeout)

    def signed_webhook(
        self, conversation_id: int, event: str = "convo.created"
    ) -> tuple[bytes, dict[str, str]]:
        """The raw bytes and headers FreeScout would send for ``event`` now (no tags, as in real payloads)."""
        body = self.fs.conversation(conversation_id)
        body["_embedded"].pop("tags", None)
        return signed(body, event, FS_SECRET)

    def closing_comments(self, conversation_id: int) -> list[str]:
        marker = f"closed conversation={conversation_id} "
        issues = self.gh.issues_for(conversation_id)
        return [c for i in issues for c in self.gh.comments(i["number"]) if marker in c]


@contextmanager
def open_deployment(
    tmp: Path,
    *,
    fs_config: FreeScoutSimConfig | None = None,
    gh_config: GitHubSimConfig | None = None,
    config: str | None = None,
    check_traffic: bool = True,
) -> Iterator[Deployment]:
    """Fresh simulators and a deployment on them; its web processes are stopped at the end.

    ``config`` is the bridge's TOML (default: ``config/bridge.toml``). With ``check_traffic``, every request
    sent to GitHub is checked against GitHub's REST description at the end.
    """
    with running_simulators(fs_config, gh_config, check_traffic=check_traffic) as (fs, gh):
        deployment = Deployment(fs, gh, tmp)
        if config is not None:
            deployment.configure(config)
        try:
            yield deployment
        finally:
            deployment.stop()
