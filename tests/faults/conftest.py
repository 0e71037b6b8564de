"""Fault, kill and burst tests: the real uvicorn bridge between the two simulators, with faults injected.

Built from the end-to-end harness (``tests/e2e/harness.py``): ``Bridge`` is the real process, ``FreeScout``
and ``GitHub`` are the control-plane clients. A ``Rig`` adds what these tests assert on: issues per
conversation marker, closing comments, GitHub's ``violations`` and a ``settle`` that waits until every
request the simulators received has been answered (a ``slow`` write lands after its client gave up).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bridge.sandbox.freescout_sim import create_app as freescout_app
from bridge.sandbox.freescout_state import FreeScoutSimConfig
from bridge.sandbox.github_sim import GitHubSimConfig
from bridge.sandbox.github_sim import create_app as github_app
from bridge.sandbox.serve import ServerThread
from bridge.vocab import conversation_ids_in
from tests.e2e.conftest import FAST_RETRIES
from tests.e2e.harness import EVENTS, ROOT, Bridge, FreeScout, GitHub, bridge_env
from tests.sandbox import openapi_check

#: The bridge's config for these runs. Production spaces GitHub writes 1 s apart; 0.2 s keeps the suite
#: short and still serialises them. A create whose outcome is unknown is only looked for (not repeated)
#: for ``unsure_write_seconds`` (30 s in production): here a little longer than a ``slow`` fault lasts
#: past the client timeout, and well inside FreeScout's compressed retry schedule.
CONFIG = """
[github]
write_spacing_seconds = 0.2
unsure_write_seconds = {unsure}

[limits]
freescout_timeout_seconds = {fs_timeout}
github_timeout_seconds = {gh_timeout}
"""


def wait_for(check: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    """Poll ``check`` until true; fail after ``timeout`` seconds (a guard against hangs, not a timing)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.05)


def openapi_problems(traffic: list[dict[str, Any]]) -> list[str]:
    """Every request the bridge sent to GitHub, and every successful answer, against GitHub's description."""
    problems: list[str] = []
    for r in traffic:
        query = {k: v if isinstance(v, str) else v[-1] for k, v in (r.get("query") or {}).items()}
        problems += openapi_check.request_errors(r["method"], r["path"], r.get("json"), query)
        if isinstance(r.get("status"), int) and 200 <= r["status"] < 300:
            problems += openapi_check.response_errors(r["method"], r["path"], r["status"], r.get("response"))
    return problems


def _answered(entry: dict[str, Any]) -> bool:
    return entry.get("status") is not None or "fault" in entry


@dataclass
class Rig:
    fs: FreeScout
    gh: GitHub
    tmp: Path
    env: dict[str, str]
    bridges: list[Bridge] = field(default_factory=list)

    # -- the bridge -------------------------------------------------------------------------------
    def start_bridge(self, register: bool = True, **env: str) -> Bridge:
        bridge = Bridge({**self.env, **env}, self.tmp / f"bridge{len(self.bridges)}.log")
        bridge.start()
        self.bridges.append(bridge)
        if register:
            self.fs.post("/_sim/webhooks", {"url": bridge.webhook_url(), "events": EVENTS})
        return bridge

    def sweep_cli(self) -> dict[str, Any]:
        """``freescout-bridge sweep --json`` in its own process, with the bridge's environment."""
        import json

        done = subprocess.run(
            [sys.executable, "-m", "bridge", "sweep", "--json"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        report: dict[str, Any] = json.loads(done.stdout)
        return report

    # -- faults -----------------------------------------------------------------------------------
    def fault(self, api: str, **spec: Any) -> None:
        (self.fs if api == "freescout" else self.gh).post("/_sim/faults", spec)

    def faults(self, api: str) -> list[dict[str, Any]]:
        return list((self.fs if api == "freescout" else self.gh).get("/_sim/faults")["faults"])

    def clear_faults(self) -> None:
        for sim in (self.fs, self.gh):
            sim.http.delete("/_sim/faults").raise_for_status()

    def settle(self, timeout: float = 30) -> None:
        """Every delivery done and every request either simulator received answered (or dropped)."""
        self.fs.wait_idle(timeout)
        for sim in (self.fs, self.gh):
            wait_for(lambda s=sim: all(_answered(r) for r in s.get("/_sim/requests")["requests"]), timeout)
        self.fs.wait_idle(timeout)

    # -- what the tests assert on -----------------------------------------------------------------
    def issues_for(self, conversation_id: int) -> list[dict[str, Any]]:
        return [i for i in self.gh.issues() if conversation_id in conversation_ids_in(i.get("body"))]

    def closing_comments(self, conversation_id: int) -> list[str]:
        marker = f"closed conversation={conversation_id} "
        return [
            c for i in self.issues_for(conversation_id) for c in self.gh.comments(i["number"]) if marker in c
        ]

    def violations(self) -> int:
        return int(self.gh.get("/_sim/stats")["violations"])

    def markers_per_conversation(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for issue in self.gh.issues():
            for cid in conversation_ids_in(issue.get("body")):
                counts[cid] = counts.get(cid, 0) + 1
        return counts


@contextmanager
def open_rig(
    tmp: Path,
    *,
    retry_delays: tuple[float, ...] = FAST_RETRIES,
    fs_timeout: float = 5.0,
    gh_timeout: int = 5,
    unsure: float = 30.0,
    gh_config: GitHubSimConfig | None = None,
) -> Iterator[Rig]:
    """Both simulators on loopback ports; bridges started through the rig are stopped at the end.

    At the end every request sent to GitHub is validated against GitHub's REST description.
    """
    config = tmp / "bridge.toml"
    config.write_text(
        CONFIG.format(fs_timeout=fs_timeout, gh_timeout=gh_timeout, unsure=unsure), encoding="utf-8"
    )
    fs_app = freescout_app(FreeScoutSimConfig(retry_delays=retry_delays))
    with (
        ServerThread(fs_app) as fs_server,
        ServerThread(github_app(gh_config or GitHubSimConfig())) as gh_server,
    ):
        rig = Rig(
            FreeScout(fs_server.url),
            GitHub(gh_server.url),
            tmp,
            bridge_env(fs_server.url, gh_server.url, BRIDGE_CONFIG=str(config)),
        )
        try:
            yield rig
            traffic = rig.gh.requests()
        finally:
            for bridge in rig.bridges:
                bridge.stop()
            rig.fs.close()
            rig.gh.close()
    problems = openapi_problems(traffic)
    assert not problems, "GitHub traffic breaks GitHub's REST description:\n" + "\n".join(problems)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """Fresh simulators, FreeScout retrying on a compressed schedule; start the bridge yourself."""
    with open_rig(tmp_path) as fresh:
        yield fresh
