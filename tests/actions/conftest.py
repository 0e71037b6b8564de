"""The Actions script against the local simulators, run as a subprocess the way a workflow step runs it.

One FreeScout simulator and one GitHub simulator (``tests/harness``) serve the whole module on loopback;
every test starts from a reset. ``Harness.run`` runs ``freescout-sync`` on one event with the workflow's
environment pointing at both, and checks on every run that neither secret nor the issue body leaks into
stdout, stderr or the step summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.github_sim import GitHubSimConfig
from tests.actions.payloads import REPOSITORY, labeled
from tests.harness import (
    BOT_USER_ID,
    TICKET_CUSTOMER,
    Deployment,
    FreeScout,
    GitHub,
    running_simulators,
    workflow_env,
)

BOT = BOT_USER_ID
CUSTOMER = TICKET_CUSTOMER
OPS_MAILBOX_ID = 1  # the simulator's demo "Ops" mailbox, ops@example.com, github_issue_url field id 12
OPS_FIELD_ID = 12
BODY_CANARY = "BODY-CANARY-7f3a"
SUITE_ENV = {
    "GITHUB_REPOSITORY": REPOSITORY,
    # The simulators answer at once: writes in doubt need seconds of patience here, not minutes.
    "FREESCOUT_IN_DOUBT_SECONDS": "4",
    "GITHUB_IN_DOUBT_SECONDS": "4",
    "FREESCOUT_TIMEOUT_SECONDS": "3",
    "GITHUB_TIMEOUT_SECONDS": "3",
}


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    summary: str

    def errors(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::error")]

    def warnings(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::warning")]


class Harness:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.fs = deployment.fs
        self.gh = deployment.gh
        self.fs_url = self.fs.url
        self.gh_url = self.gh.url

    # -- the outside world ------------------------------------------------------------------------------
    def seed_issue(self, **spec: Any) -> dict[str, Any]:
        spec.setdefault("repo", REPOSITORY)
        spec.setdefault("title", "Export crashes on save")
        spec.setdefault("body", f"Steps: open, save.\n{BODY_CANARY}\n<script>alert(1)</script>")
        issue = self.gh.seed_issue(**spec)
        assert issue["number"] == 1, "the fixtures talk about issue #1"
        return issue

    def seed_conversation(self, mailbox_id: int = 2) -> int:
        body = {"mailboxId": mailbox_id, "customerEmail": "dana@example.com", "subject": "Hi", "body": "x"}
        conversation = self.fs.post("/_sim/conversations", body)
        self.fs.clear_requests()
        return int(conversation["id"])

    def gh_fault(self, **spec: Any) -> None:
        self.gh.fault(**spec)

    def fs_fault(self, **spec: Any) -> None:
        self.fs.fault(**spec)

    def clear_gh_faults(self) -> None:
        self.gh.clear_faults()

    def fs_requests(self) -> list[dict[str, Any]]:
        return self.fs.requests()

    def gh_requests(self) -> list[dict[str, Any]]:
        return self.gh.requests()

    def fs_writes(self) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.fs_requests() if r["method"] != "GET"]

    def gh_writes(self) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.gh_requests() if r["method"] != "GET"]

    def conversations(self) -> list[dict[str, Any]]:
        return self.fs.conversations()

    def comments(self) -> list[str]:
        issues = self.gh.state()["repos"][0]["issues"]
        return [c["body"] for c in issues[0]["comment_list"]] if issues else []

    # -- the script ---------------------------------------------------------------------------------------
    def env(self, **overrides: str | None) -> dict[str, str]:
        """The workflow's environment, in the repository of the octokit example payloads."""
        return workflow_env(self.fs_url, self.gh_url, **{**SUITE_ENV, **overrides})

    def run(self, data: dict[str, Any] | None = None, **overrides: str | None) -> Result:
        overrides = {**SUITE_ENV, **overrides}
        done, summary = self.deployment.sync(data if data is not None else labeled(), **overrides)
        result = Result(done.returncode, done.stdout, done.stderr, summary)
        self._assert_nothing_leaked(result, self.env(**overrides))
        return result

    @staticmethod
    def _assert_nothing_leaked(result: Result, env: dict[str, str]) -> None:
        secrets = [env.get("GITHUB_TOKEN", ""), env.get("FREESCOUT_API_KEY", "")]
        for secret in filter(None, secrets):
            masked = [line for line in result.stdout.splitlines() if secret in line]
            assert masked == [f"::add-mask::{secret}"], "a secret was printed outside ::add-mask::"
            assert secret not in result.stderr and secret not in result.summary
        for text in (result.stdout, result.stderr, result.summary):
            assert BODY_CANARY not in text, "the issue body reached the log or the summary"
        assert result.summary.startswith("### FreeScout sync: "), "every run writes a step summary"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FreeScout, GitHub]]:
    with running_simulators(gh_config=GitHubSimConfig(repos=(REPOSITORY,))) as sims:
        yield sims


@pytest.fixture
def harness(servers: tuple[FreeScout, GitHub], tmp_path: Path) -> Harness:
    fs, gh = servers
    for sim in (fs, gh):
        sim.reset()
        sim.clear_faults()
    return Harness(Deployment(fs, gh, tmp_path))


@pytest.fixture
def h(harness: Harness) -> Harness:
    """Short alias used by the subprocess tests."""
    return harness
