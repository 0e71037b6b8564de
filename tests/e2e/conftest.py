"""Fixtures for the end-to-end suite: fresh simulators per test, the bridge wired to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandbox.freescout_sim import create_app as freescout_app
from sandbox.freescout_state import FreeScoutSimConfig
from sandbox.github_sim import GitHubSimConfig
from sandbox.github_sim import create_app as github_app
from sandbox.serve import ServerThread
from tests.e2e.harness import EVENTS, Bridge, FreeScout, GitHub, bridge_env
from tests.sandbox import openapi_check

FAST_RETRIES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@pytest.fixture
def fs() -> Iterator[FreeScout]:
    with ServerThread(freescout_app(FreeScoutSimConfig(retry_delays=FAST_RETRIES))) as server:
        sim = FreeScout(server.url)
        yield sim
        sim.close()


@pytest.fixture
def gh() -> Iterator[GitHub]:
    """The GitHub simulator. At teardown, every request the bridge sent (and every successful answer) is
    validated against GitHub's official REST description: a schema violation fails the test."""
    with ServerThread(github_app(GitHubSimConfig())) as server:
        sim = GitHub(server.url)
        yield sim
        traffic = sim.requests()
        sim.close()
    problems = openapi_check.traffic_errors(traffic)
    assert not problems, "GitHub traffic breaks GitHub's REST description:\n" + "\n".join(problems)


@pytest.fixture
def start_bridge(fs: FreeScout, gh: GitHub, tmp_path: Path) -> Iterator[Callable[..., Bridge]]:
    """Start the bridge (flag on unless overridden) and register it as FreeScout's webhook."""
    started: list[Bridge] = []

    def start(register: bool = True, **env: str) -> Bridge:
        bridge = Bridge(bridge_env(fs.url, gh.url, **env), tmp_path / f"bridge{len(started)}.log")
        bridge.start()
        started.append(bridge)
        if register:
            fs.post("/_sim/webhooks", {"url": bridge.webhook_url(), "events": EVENTS})
        return bridge

    yield start
    for bridge in started:
        bridge.stop()
