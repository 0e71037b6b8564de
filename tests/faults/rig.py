"""The rig of the fault, kill and burst tests and benches: the real bridge between the two simulators.

Built from the end-to-end harness (``tests/e2e/harness.py``): ``Bridge`` is the real process, ``FreeScout``
and ``GitHub`` are the control-plane clients. A ``Rig`` adds what these tests assert on: issues per
conversation marker, closing comments, GitHub's ``violations`` and a ``settle`` that waits until every
request the simulators received has been answered (a ``slow`` write lands after its client gave up).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bridge.vocab import conversation_ids_in
from sandbox.freescout_sim import create_app as freescout_app
from sandbox.freescout_state import FreeScoutSimConfig
from sandbox.github_sim import GitHubSimConfig
from sandbox.github_sim import create_app as github_app
from sandbox.serve import ServerThread
from tests.e2e.conftest import FAST_RETRIES
from tests.e2e.harness import EVENTS, FS_SECRET, ROOT, Bridge, FreeScout, GitHub, bridge_env
from tests.helpers import signed
from tests.sandbox import openapi_check


def bridge_config(
    *,
    spacing: float = 0.2,
    unsure: float = 30.0,
    fs_timeout: float = 5.0,
    gh_timeout: int = 5,
    per_minute: int = 60,
    per_hour: int = 400,
) -> str:
    """The bridge's TOML for these runs (every other key keeps its default).

    Production spaces GitHub writes 1 s apart; the tests use 0.2 s, which keeps them short and still
    serialises writes. A create, comment or note whose outcome is unknown is only looked for (not
    repeated) for ``unsure_write_seconds`` (30 s in production).
    """
    return (
        f"[github]\nwrite_spacing_seconds = {spacing}\nunsure_write_seconds = {unsure}\n"
        f"content_per_minute = {per_minute}\ncontent_per_hour = {per_hour}\n\n"
        f"[limits]\nfreescout_timeout_seconds = {fs_timeout}\ngithub_timeout_seconds = {gh_timeout}\n"
    )


def wait_for(check: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    """Poll ``check`` until true; fail after ``timeout`` seconds (a guard against hangs, not a timing)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.05)


async def send_copies(url: str, raw: bytes, headers: dict[str, str], copies: int) -> list[int]:
    """``copies`` posts of the same signed bytes, all in flight together, each on a new connection.

    (A fresh client per call: reusing idle keep-alive connections across calls races uvicorn closing
    them, a client artefact that has nothing to do with the bridge's answer.)
    """
    limits = httpx.Limits(max_connections=copies, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        answers = await asyncio.gather(
            *(client.post(url, content=raw, headers=headers) for _ in range(copies))
        )
    return [a.status_code for a in answers]


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

    def sweep_argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bridge", "sweep", "--json", *args]

    def sweep_cli(self, *args: str, **env: str) -> dict[str, Any]:
        """``freescout-bridge sweep --json ARGS`` in its own process, with the bridge's environment plus
        ``env`` (``BRIDGE_URL`` and ``BRIDGE_ADMIN_TOKEN`` hand the pass to that web process)."""
        import json

        done = subprocess.run(
            self.sweep_argv(*args),
            env={**self.env, **env},
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

    def signed_webhook(
        self, conversation_id: int, event: str = "convo.created"
    ) -> tuple[bytes, dict[str, str]]:
        """The raw bytes and headers FreeScout would send for ``event`` now (no tags, as in real payloads)."""
        body = self.fs.conversation(conversation_id)
        body["_embedded"].pop("tags", None)
        return signed(body, event, FS_SECRET)

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
    config: str | None = None,
    gh_config: GitHubSimConfig | None = None,
    validate: bool = True,
) -> Iterator[Rig]:
    """Both simulators on loopback ports; bridges started through the rig are stopped at the end.

    ``config`` is the bridge's TOML (default ``bridge_config()``). With ``validate``, every request sent to
    GitHub is checked against GitHub's REST description at the end.
    """
    path = tmp / "bridge.toml"
    path.write_text(config if config is not None else bridge_config(), encoding="utf-8")
    fs_app = freescout_app(FreeScoutSimConfig(retry_delays=retry_delays))
    with (
        ServerThread(fs_app) as fs_server,
        ServerThread(github_app(gh_config or GitHubSimConfig())) as gh_server,
    ):
        rig = Rig(
            FreeScout(fs_server.url),
            GitHub(gh_server.url),
            tmp,
            bridge_env(fs_server.url, gh_server.url, BRIDGE_CONFIG=str(path)),
        )
        try:
            yield rig
            traffic = rig.gh.requests()
        finally:
            for bridge in rig.bridges:
                bridge.stop()
            rig.fs.close()
            rig.gh.close()
    problems = openapi_check.traffic_errors(traffic) if validate else []
    assert not problems, "GitHub traffic breaks GitHub's REST description:\n" + "\n".join(problems)
