"""The import contracts in pyproject.toml bite: one forbidden import in a copy of the tree fails lint-imports.

Each case adds a single import that crosses one layer to a copy of the source tree, runs ``lint-imports``
there and expects that contract, by name, to be reported broken; the untouched copy passes. Without this,
a contract that matches no module (a typo in a module path) would pass forever.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB_WITHOUT_CLI = "The web process never imports the operator CLI"
PURE_CORE = "The pure core does no I/O"
NO_SIMULATORS = "The product never imports the simulators, the demo or the tests"
ACTIONS_ALONE = "The Actions script never imports the web process or the CLI"


def copy_tree(target: Path) -> Path:
    for package in ("bridge", "sandbox"):
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the copy: its own directory first on the path, so the copy is what gets read."""
    found = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [found, "--no-cache", "--no-logo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_untouched_tree_keeps_every_contract(tmp_path: Path) -> None:
    proc = lint_imports(copy_tree(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for contract in (WEB_WITHOUT_CLI, PURE_CORE, NO_SIMULATORS, ACTIONS_ALONE):
        assert f"{contract} KEPT" in proc.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        ("bridge/app.py", "bridge.cli.main", WEB_WITHOUT_CLI),
        ("bridge/model.py", "httpx", PURE_CORE),
        ("bridge/linker.py", "sandbox", NO_SIMULATORS),
        ("bridge/actions/sync.py", "bridge.app", ACTIONS_ALONE),
    ],
)
def test_one_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, forbidden: str, contract: str
) -> None:
    root = copy_tree(tmp_path)
    source = root / module
    source.write_text(source.read_text(encoding="utf-8") + f"\nimport {forbidden}  # crosses a layer\n")
    proc = lint_imports(root)
    assert proc.returncode != 0, proc.stdout
    assert f"{contract} BROKEN" in proc.stdout
    assert f"{module.removesuffix('.py').replace('/', '.')} -> {forbidden}" in proc.stdout
