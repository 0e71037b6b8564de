"""The three programs as real processes: the web process (uvicorn), ``freescout-bridge`` and ``freescout-sync``.

Each runs with an environment built here, from nothing of the host's but ``PATH``: ``deployment_env`` is
what the web process and the operator CLI read (Heroku's config vars), ``workflow_env`` what the
Actions step gives the script. Both point at the simulators' URLs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.harness.sims import BOT_USER_ID, FS_KEY, FS_SECRET, GH_TOKEN, REPO

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers there
TICKET_CUSTOMER = (
    "engineering@example.com"  # FREESCOUT_TICKET_CUSTOMER_EMAIL: who Direction B tickets are from
)


def with_overrides(env: dict[str, str], overrides: Mapping[str, str | None]) -> dict[str, str]:
    """``env`` with ``overrides`` applied; an override of ``None`` removes the variable."""
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def deployment_env(fs_url: str, gh_url: str = NOWHERE, **overrides: str | None) -> dict[str, str]:
    """The web process's and the operator CLI's environment: writing on, no scheduled sweep."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONUNBUFFERED": "1",
        "FREESCOUT_URL": fs_url,
        "FREESCOUT_API_KEY": FS_KEY,
        "FREESCOUT_WEBHOOK_SECRET": FS_SECRET,
        "FREESCOUT_BOT_USER_ID": str(BOT_USER_ID),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": gh_url,
        "GITHUB_ISSUE_BOT_TOKEN": GH_TOKEN,
        "FLAG_FREESCOUT_GITHUB_AUTOLINK": "true",
        "SWEEP_INTERVAL_SECONDS": "0",
        "BRIDGE_CONFIG": str(ROOT / "config" / "bridge.toml"),
    }
    return with_overrides(env, overrides)


def workflow_env(fs_url: str, gh_url: str, **overrides: str | None) -> dict[str, str]:
    """What the workflow step gives ``freescout-sync`` (``runbooks/github-actions-setup.md``)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GITHUB_EVENT_NAME": "issues",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": gh_url,
        "GITHUB_TOKEN": GH_TOKEN,
        "FREESCOUT_URL": fs_url,
        "FREESCOUT_API_KEY": FS_KEY,
        "FREESCOUT_BOT_USER_ID": str(BOT_USER_ID),
        "FREESCOUT_OPS_MAILBOX": "ops@example.com",
        "FREESCOUT_TICKET_CUSTOMER_EMAIL": TICKET_CUSTOMER,
        "FLAG_FREESCOUT_GITHUB_AUTOLINK": "true",
    }
    return with_overrides(env, overrides)


def run_cli(
    env: Mapping[str, str], *args: str, cwd: Path = ROOT, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``freescout-bridge ARGS`` (``python -m bridge``) in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


def run_sync(
    env: Mapping[str, str], event: Mapping[str, Any], workdir: Path, *, name: str = "event"
) -> tuple[subprocess.CompletedProcess[str], str]:
    """``freescout-sync`` on one ``issues`` event, as a workflow step runs it; returns its step summary too.

    The event goes to ``workdir/NAME.json`` (``GITHUB_EVENT_PATH``), the summary to ``workdir/NAME.md``
    (``GITHUB_STEP_SUMMARY``); ``env`` may point either elsewhere.
    """
    event_path, summary = workdir / f"{name}.json", workdir / f"{name}.md"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    summary.write_text("", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bridge.actions.sync"],
        env={"GITHUB_EVENT_PATH": str(event_path), "GITHUB_STEP_SUMMARY": str(summary), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, summary.read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def procfile_web_args(port: int, procfile: Path = ROOT / "Procfile") -> list[str]:
    """``web:`` from the Procfile with $PORT filled in, loopback host, and this interpreter's uvicorn."""
    line = next(x for x in procfile.read_text().splitlines() if x.startswith("web:"))
    command = re.sub(r"\$\{PORT(:-[^}]*)?\}|\$PORT\b", str(port), line[len("web:") :])
    args = shlex.split(command)
    assert args[0] == "uvicorn", f"the web: command should start uvicorn, not {args[0]}"
    args = [sys.executable, "-m", "uvicorn", *args[1:]]
    return ["127.0.0.1" if a == "0.0.0.0" else a for a in args]


def dev_web_args(port: int) -> list[str]:
    """``make serve``'s command: uvicorn's defaults, which the fault and kill tests were measured with."""
    app = ["bridge.app:app_from_env", "--factory", "--no-access-log"]
    return [sys.executable, "-m", "uvicorn", *app, "--host", "127.0.0.1", "--port", str(port)]


class Bridge:
    """The real web process: ``uvicorn bridge.app:app_from_env --factory`` in a subprocess.

    ``procfile=True`` runs the Procfile's exact ``web:`` flags (plus ``extra``). ``start`` after ``kill9``
    or ``stop`` starts it again on the same port, so FreeScout's webhook URL still points at it. All
    output goes to ``log_path``; ``deliveries_logged`` reads its summary lines back.
    """

    def __init__(
        self, env: Mapping[str, str], log_path: Path, *, procfile: bool = False, extra: Iterable[str] = ()
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = dict(env)
        self.command = procfile_web_args if procfile else dev_web_args
        self.extra = list(extra)
        self.app = "bridge.app:app_from_env"  # a test may serve its own factory instead
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def args(self) -> list[str]:
        """The command line, built from ``port`` at start (a bridge may take over another's port)."""
        args = [*self.command(self.port), *self.extra]
        return [self.app if a == "bridge.app:app_from_env" else a for a in args]

    def start(self) -> Bridge:
        """Start the process and return once ``/healthz`` answers (its lifespan has run)."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.args, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("bridge exited:\n" + self.output())
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("bridge did not start:\n" + self.output())

    def kill9(self) -> None:
        """SIGKILL: no shutdown, no lifespan, whatever was in flight is lost."""
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

    def __enter__(self) -> Bridge:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def webhook_url(self, route: str = "support") -> str:
        return f"{self.url}/api/webhooks/freescout/{route}"

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[str]:
        return self.output().splitlines()

    def deliveries_logged(self) -> list[dict[str, Any]]:
        """The one summary line per delivery (``"msg": "delivery"``), parsed."""
        lines = (json.loads(line) for line in self.log_lines() if line.startswith("{"))
        return [entry for entry in lines if entry.get("msg") == "delivery"]
