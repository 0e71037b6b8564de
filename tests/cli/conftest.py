"""A deployment on the local simulators, driven through the real command line (``tests/harness``).

``servers`` starts the FreeScout and GitHub simulators once per module; ``deployment`` resets both for
each test and writes a config file listing the handled mailboxes. Its environment is the harness's
minus the flag and the sweep interval, as an operator's shell would have it: every command starts in
shadow mode unless a test turns writing on, and a web process schedules its sweep. The GitHub simulator
starts without the bridge's own labels, so ``check`` has something to fix.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sandbox.github_sim import GitHubSimConfig
from tests.harness import REPO, Deployment, FreeScout, GitHub, running_simulators

GOOD_MAILBOXES = ("ops@example.com", "support@example.com")
PARTIAL_LABELS = ("bug", "enhancement")  # the bridge's own labels are missing


def mailbox_config(mailboxes: tuple[str | int, ...] = GOOD_MAILBOXES) -> str:
    """The bridge's TOML: these mailboxes, no write spacing (tests must not wait on etiquette)."""
    listed = ", ".join(json.dumps(m) for m in mailboxes)
    return f"[autolink]\nmailboxes = [{listed}]\n\n[github]\nwrite_spacing_seconds = 0\n"


@contextmanager
def simulators(seed_labels: tuple[str, ...]) -> Iterator[tuple[FreeScout, GitHub]]:
    with running_simulators(gh_config=GitHubSimConfig(repos=(REPO,), seed_labels=seed_labels)) as sims:
        yield sims


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FreeScout, GitHub]]:
    with simulators(PARTIAL_LABELS) as sims:
        yield sims


@pytest.fixture
def deployment(
    servers: tuple[FreeScout, GitHub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deployment]:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the host's sweep lock, for in-process web apps
    fs, gh = servers
    fs.reset()
    gh.reset()
    deployment = Deployment(
        fs, gh, tmp_path, FLAG_FREESCOUT_GITHUB_AUTOLINK=None, SWEEP_INTERVAL_SECONDS=None
    )
    deployment.configure(mailbox_config())
    yield deployment
    deployment.stop()
