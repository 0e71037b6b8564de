"""Fixtures of the fault, kill and burst tests (the machinery is in ``tests/faults/rig.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.rig import open_rig
from tests.harness import Deployment


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Deployment]:
    """Fresh simulators, FreeScout retrying on a compressed schedule; start the bridge yourself."""
    with open_rig(tmp_path) as fresh:
        yield fresh
