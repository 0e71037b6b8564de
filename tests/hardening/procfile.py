"""The bridge as production runs it: the Procfile's ``web:`` command in a subprocess, on a loopback port.

Also a tiny raw-socket HTTP client, because slow and oversized clients are exactly what ordinary HTTP
clients refuse to be.
"""

from __future__ import annotations

import re
import select
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


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


class UvicornBridge:
    """``uvicorn bridge.app:app_from_env --factory`` with the Procfile's flags (plus ``extra``)."""

    def __init__(self, env: Mapping[str, str], log_path: Path, extra: Iterable[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.args = [*procfile_web_args(self.port), *extra]
        self.env = dict(env)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> UvicornBridge:
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
        self.__exit__()
        raise RuntimeError("bridge did not start:\n" + self.output())

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def _parse(data: bytes) -> RawResponse | None:
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    length = int(headers.get("content-length", "0"))
    if len(rest) < length:
        return None
    return RawResponse(int(lines[0].split()[1]), headers, rest[:length])


def raw_exchange(
    port: int, head: bytes, chunks: Iterable[bytes] = (), pause: float = 0.0, timeout: float = 15.0
) -> RawResponse:
    """Send ``head``, then each chunk with ``pause`` between them, stopping as soon as an answer arrives."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(head)
        received = b""
        for chunk in chunks:
            if select.select([sock], [], [], pause)[0]:
                break  # the server answered (or closed) before we finished sending
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            parsed = _parse(received)
            if parsed is not None:
                return parsed
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                break
            received += data
        parsed = _parse(received)
        assert parsed is not None, f"no complete HTTP response, got {received[:200]!r}"
        return parsed
