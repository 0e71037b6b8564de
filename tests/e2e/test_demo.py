"""``make demo`` is the README's first command: it must tell the whole story and finish green."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_demo_tells_the_story_and_exits_zero() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sandbox.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for step in (
        "1. A customer writes in",
        "2. The bridge opens a GitHub issue",
        "3. The URL is written back",
        "4. An engineer labels another issue",
        "5. Support closes the first ticket",
        "6. FreeScout redelivers every webhook again",
        "7. Engineering fixes the reported issue and closes it; support is told",
    ):
        assert step in done.stdout
    assert "✗" not in done.stdout and "All 7 steps held." in done.stdout
