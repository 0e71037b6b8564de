"""Outside tools the ops tests drive (Debian's promtool and chromium).

Absent on a developer's machine, a test that needs one is skipped with the package to install; in CI
(``.ci/run`` installs both and sets ``BRIDGE_REQUIRE_OPS_TOOLS=1``) an absent tool fails the test instead,
so a green CI run always means the rules and the page were really checked.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "ops"
_PACKAGES = {"promtool": "prometheus", "chromium": "chromium"}


def require(tool: str) -> str:
    """The tool's path, or skip (fail when ``BRIDGE_REQUIRE_OPS_TOOLS=1``) naming the Debian package."""
    found = shutil.which(tool) or shutil.which(tool, path="/usr/bin")
    if found:
        return found
    message = f"{tool} is not installed: apt-get install {_PACKAGES.get(tool, tool)}"
    if os.environ.get("BRIDGE_REQUIRE_OPS_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)
