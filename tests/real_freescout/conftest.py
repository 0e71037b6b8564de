"""The real-FreeScout lane: one real FreeScout for the whole session, the bridge as a real process.

FreeScout is booted once (``sandbox.real_freescout.RealFreeScout``, about ten seconds) and shared;
every test makes its own conversations, so tests do not depend on each other's data. FreeScout's
webhooks are sent by its queue worker, which the tests run themselves (``RealFreeScout.drain``) instead
of waiting for the per-minute cron. GitHub is the local simulator.

Without PHP, MariaDB or a FreeScout tree the lane is skipped with the reason, except under ``CI=true``,
where it fails: CI must run it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sandbox.github_sim import GitHubSimConfig
from sandbox.real_freescout import RealFreeScout, Unavailable
from tests.actions.payloads import REPOSITORY
from tests.harness import REPO, GitHub, running_github
from tests.real_freescout.lane import Lane, LaneBridge


@pytest.fixture(scope="session")
def real_fs() -> Iterator[RealFreeScout]:
    try:
        instance = RealFreeScout()
    except Unavailable as missing:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI must run the real-FreeScout lane, but: {missing}", pytrace=False)
        pytest.skip(f"real FreeScout unavailable: {missing}")
    with instance:
        yield instance


@pytest.fixture(scope="module")
def gh() -> Iterator[GitHub]:
    with running_github(GitHubSimConfig(repos=(REPO, REPOSITORY))) as sim:
        yield sim


@pytest.fixture(scope="module")
def lane(real_fs: RealFreeScout, gh: GitHub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lane]:
    """The bridge (handling the support mailbox) registered as the webhook of the shared FreeScout."""
    tmp = tmp_path_factory.mktemp("lane")
    with Lane(real_fs, gh, tmp) as running:
        yield running


@pytest.fixture
def bridge(lane: Lane) -> LaneBridge:
    return lane.bridge
