"""Fixtures for the end-to-end suite: fresh simulators per test, the bridge wired to them (``tests/harness``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandbox.freescout_state import FreeScoutSimConfig
from tests.harness import FAST_RETRIES, Bridge, Deployment, FreeScout, GitHub, open_deployment


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """FreeScout retrying on a compressed schedule; every request sent to GitHub is checked at the end
    against GitHub's official REST description (a schema violation fails the test)."""
    with open_deployment(tmp_path, fs_config=FreeScoutSimConfig(retry_delays=FAST_RETRIES)) as fresh:
        yield fresh


@pytest.fixture
def fs(deployment: Deployment) -> FreeScout:
    return deployment.fs


@pytest.fixture
def gh(deployment: Deployment) -> GitHub:
    return deployment.gh


@pytest.fixture
def start_bridge(deployment: Deployment) -> Callable[..., Bridge]:
    """Start the bridge (flag on unless overridden) and register it as FreeScout's webhook."""
    return deployment.start_bridge
