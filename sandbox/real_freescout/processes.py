"""Processes the real-FreeScout lane starts, and only those: each runs in its own session, so stopping
it stops its whole process group (``php -S`` workers, ``mariadbd`` threads) and nothing else.

A record of a process (pid plus a marker that must appear in its command line) survives the Python
process that started it, so ``python -m sandbox.real_freescout down`` stops exactly what ``up``
started, and refuses a pid that has since been reused by someone else's process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Started:
    """A process this lane started: its pid (= its process group id) and a marker from its command line."""

    name: str
    pid: int
    marker: str
    proc: subprocess.Popen[bytes] | None = field(default=None, compare=False, repr=False)

    def record(self) -> dict[str, str | int]:
        return {"name": self.name, "pid": self.pid, "marker": self.marker}

    def is_ours(self) -> bool:
        if self.proc is not None:  # our own child: its exit status is the truth
            return self.proc.poll() is None
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            return False
        return self.marker.encode() in cmdline

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the process group, wait, then SIGKILL it. A no-op if the pid is no longer ours."""
        if not self.is_ours():
            return
        _signal_group(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_ours():
                return
            time.sleep(0.05)
        _signal_group(self.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    marker: str,
    log: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Started:
    """Start ``argv`` in a new session (its own process group), output appended to ``log``."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Started(name, proc.pid, marker, proc)


def wait_for_port(port: int, started: Started, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not started.is_ours():
            code = started.proc.returncode if started.proc else "?"
            raise RuntimeError(
                f"{started.name} exited ({code}) during start-up; its log ({log}):\n{_tail(log)}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{started.name} did not listen on 127.0.0.1:{port} within {timeout} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
