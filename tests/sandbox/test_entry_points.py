"""ServerThread, the control-plane resets and ``python -m sandbox``."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest

from sandbox import freescout_sim, github_sim
from sandbox.__main__ import _parser, build_app
from sandbox.serve import ServerThread
from tests.sandbox.conftest import API_KEY


def test_server_thread_picks_a_free_port_and_stops() -> None:
    with ServerThread(github_sim.create_app()) as server:
        assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0
        assert httpx.get(f"{server.url}/_sim/stats").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/_sim/stats")


def test_freescout_reset_restores_the_seed(fs: httpx.Client, fs_control: httpx.Client) -> None:
    fs_control.post("/_sim/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["convo.created"]})
    fs_control.post(
        "/_sim/conversations", json={"mailboxId": 2, "subject": "s", "body": "b", "customerEmail": "a@b.c"}
    )
    assert fs_control.post("/_sim/reset").status_code == 204
    state = fs_control.get("/_sim/state").json()
    assert state["conversations"] == [] and state["webhooks"] == [] and state["pendingDeliveries"] == []
    assert [u["id"] for u in state["users"]] == [1, 3, 9]
    assert fs_control.get("/_sim/requests").json()["requests"] == []
    assert fs.get("/api/users/9").status_code == 200


def test_freescout_api_key_in_a_body_is_redacted(fs: httpx.Client, fs_control: httpx.Client) -> None:
    response = fs_control.put("/api/conversations/1/tags", json={"api_key": API_KEY, "tags": []})
    assert response.status_code == 404  # authorised through the body parameter, then not found
    (entry,) = fs_control.get("/_sim/requests").json()["requests"]
    assert entry["json"]["api_key"] == "<redacted>" and API_KEY not in entry["body"]


def test_github_reset_clears_issues_faults_and_stats(gh_raw: httpx.Client, gh_control: httpx.Client) -> None:
    gh_control.post("/_sim/issues", json={"title": "x"})
    gh_control.post("/_sim/faults", json={"kind": "status", "times": 0})
    gh_raw.get("/repos/acme/app/issues")
    assert gh_control.post("/_sim/reset").status_code == 204
    assert gh_raw.get("/repos/acme/app/issues").json() == []
    assert gh_control.get("/_sim/faults").json() == {"faults": []}
    assert gh_control.get("/_sim/stats").json()["requests"] == 1


def test_cli_builds_each_simulator_from_flags() -> None:
    fs_args = _parser().parse_args(
        ["freescout", "--port", "1", "--api-key", "k", "--retry-delays", "0.1,0.2"]
    )
    fs_app = build_app(fs_args)
    config: freescout_sim.FreeScoutSimConfig = fs_app.state.sim.config
    assert (config.api_key, config.retry_delays) == ("k", (0.1, 0.2))
    gh_app = build_app(_parser().parse_args(["github", "--port", "1", "--token", "t", "--repo", "o/r"]))
    assert (gh_app.state.sim.config.token, gh_app.state.sim.config.repos) == ("t", ("o/r",))


def test_python_dash_m_serves_the_github_simulator() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = [sys.executable, "-m", "sandbox", "github", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/rate_limit", headers={"Authorization": "token gh-sim-token"}
                )
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        else:
            pytest.fail("the simulator did not start")
        assert response.status_code == 200 and response.json()["resources"]["core"]["limit"] == 5000
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
