"""``serve`` is the Procfile's web line; the console script and ``python -m bridge`` are the same CLI."""

from __future__ import annotations

import shlex
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from bridge.cli.main import serve_argv
from tests.harness import ROOT, Deployment, free_port


def procfile_web() -> list[str]:
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("web:"):
            return shlex.split(line.removeprefix("web:"), posix=False)
    raise AssertionError("the Procfile has no web: line")


def test_serve_runs_exactly_the_procfile_web_line() -> None:
    assert procfile_web() == serve_argv("0.0.0.0", "${PORT:-8000}")


def test_serve_print_shows_the_command_with_port_from_the_environment(deployment: Deployment) -> None:
    result = deployment.cli("serve", "--print", PORT="5123")
    assert result.returncode == 0
    assert result.stdout.strip() == shlex.join(serve_argv("0.0.0.0", "5123"))


def test_serve_refuses_to_start_without_settings(deployment: Deployment) -> None:
    result = deployment.cli("serve", "--port", "1", FREESCOUT_WEBHOOK_SECRET="")
    assert result.returncode == 2
    assert "FREESCOUT_WEBHOOK_SECRET" in result.stdout


def test_serve_starts_the_web_process(deployment: Deployment) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=deployment.env,
        cwd=deployment.tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answered = threading.Event()
        for _ in range(300):  # up to ~30 s for the interpreter, uvicorn and the lifespan to come up
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "serve exited early"
            answered.wait(0.1)
        else:
            pytest.fail("serve never answered /healthz")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_the_console_script_is_the_same_cli() -> None:
    script = Path(sys.executable).parent / "freescout-bridge"
    if not script.exists():
        pytest.skip("the package is not installed as a console script in this environment")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0
    assert "check" in result.stdout and "exit codes:" in result.stdout
