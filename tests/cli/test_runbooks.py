"""Every ``freescout-bridge`` command the runbooks show runs, as written, against the local simulators.

The commands are read from the runbooks' fenced ``sh`` blocks (also after ``heroku run``), so a runbook
cannot show a command the CLI does not accept. The sample ``sync --dry-run`` output the troubleshooting
runbook prints is compared with what the CLI prints for the same tickets.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import textwrap
from collections.abc import Iterator

import pytest

from bridge.cli.main import EXIT_CODES
from sandbox import github_sim
from tests.cli.conftest import simulators
from tests.cli.old_tickets import configure_cutoff, old_conversation
from tests.harness import ROOT, Deployment, FreeScout, GitHub

RUNBOOKS = (
    "autolink-rollout.md",
    "deploy.md",
    "github-auth.md",
    "secret-rotation.md",
    "troubleshooting.md",
    "emergency-off.md",
    "data-and-restore.md",
)
_FENCE = re.compile(r"^([ \t]*)```(\w*)[^\n]*\n(.*?)^[ \t]*```", re.M | re.S)
_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
_SEPARATORS = {"&&", "||", "|", ";"}
NO_TAG_TICKET, BUG_TICKET = 1001, 1002


def runbook(name: str) -> str:
    return (ROOT / "runbooks" / name).read_text(encoding="utf-8")


def blocks(text: str, language: str) -> list[str]:
    """The bodies of the fenced blocks in ``language``, de-indented (blocks inside lists are indented)."""
    return [textwrap.dedent(m.group(3)) for m in _FENCE.finditer(text) if m.group(2) == language]


def invocation(line: str) -> tuple[dict[str, str], tuple[str, ...]] | None:
    """``(env, args)`` of the ``freescout-bridge`` call on a shell line, or ``None`` if there is none."""
    if "freescout-bridge" not in line:
        return None
    tokens = shlex.split(line, comments=True)
    at = next((i for i, t in enumerate(tokens) if t.rsplit("/", 1)[-1] == "freescout-bridge"), None)
    if at is None:
        return None
    env: dict[str, str] = {}
    before = at - 1
    while before >= 0 and _ASSIGNMENT.match(tokens[before]):
        name, _, value = tokens[before].partition("=")
        env[name] = value
        before -= 1
    args: list[str] = []
    for token in tokens[at + 1 :]:
        if token in _SEPARATORS:
            break
        args.append(token)
    return env, tuple(args)


def documented_commands() -> dict[str, tuple[dict[str, str], tuple[str, ...]]]:
    found: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {}
    for name in RUNBOOKS:
        for block in blocks(runbook(name), "sh"):
            for line in block.replace("\\\n", " ").splitlines():
                call = invocation(line)
                if call is not None:
                    env, args = call
                    key = " ".join([*(f"{k}={v}" for k, v in sorted(env.items())), "freescout-bridge", *args])
                    found.setdefault(key, call)
    return found


COMMANDS = documented_commands()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FreeScout, GitHub]]:
    """Simulators of a finished deployment: the GitHub repository already has every label."""
    with simulators(github_sim.DEFAULT_LABELS) as sims:
        yield sims


@pytest.fixture
def tickets(deployment: Deployment) -> Deployment:
    """The tickets the runbooks use: 1001 tagged billing, 1002 tagged bug, both in Support."""
    assert deployment.fs.email("Where is my invoice?", tags=["billing"], mailbox=2)["id"] == NO_TAG_TICKET
    assert deployment.fs.email("CSV export fails", tags=["bug"], mailbox=2)["id"] == BUG_TICKET
    return deployment


def test_the_runbooks_show_check_sync_dry_run_and_sweep() -> None:
    shown = {args for _env, args in COMMANDS.values()}
    assert ("check",) in shown and ("check", "--fix") in shown
    assert ("sync", str(NO_TAG_TICKET), "--dry-run") in shown and (
        "sync",
        str(BUG_TICKET),
        "--dry-run",
    ) in shown
    assert ("sweep",) in shown and ("sweep", "--dry-run") in shown
    assert ("sweep", "--dry-run", "--json") in shown and ("sweep", "--limit", "5") in shown


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_documented_command_runs(command: str, tickets: Deployment) -> None:
    env, args = COMMANDS[command]
    if args and args[0] == "serve":
        args = (*args, "--print")  # parse the documented arguments, do not block on the server
    result = tickets.cli(*args, **env)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    assert result.stdout.strip(), command


@pytest.mark.parametrize("ticket", [NO_TAG_TICKET, BUG_TICKET])
def test_the_sample_sync_output_is_what_the_cli_prints(ticket: int, tickets: Deployment) -> None:
    printed = tickets.cli("sync", str(ticket), "--dry-run").stdout.strip()
    samples = [line for block in blocks(runbook("troubleshooting.md"), "text") for line in block.splitlines()]
    assert printed in samples


def test_the_sample_sweep_dry_run_in_the_rollout_runbook_is_what_the_cli_prints(tickets: Deployment) -> None:
    """Its tickets: 1002 tagged today, 1003 and 1004 imported from before the cut-off (ages masked)."""
    configure_cutoff(tickets, 'link_since = "2026-11-01"')
    assert old_conversation(tickets, 2, ["bug"], "2024-11-28T10:00:00Z", subject="Old export bug") == 1003
    assert (
        old_conversation(tickets, 1, ["feature_request"], "2026-08-26T10:00:00Z", "Dark mode, please") == 1004
    )
    printed = tickets.cli("sweep", "--dry-run").stdout.strip()
    sample = next(b for b in blocks(runbook("autolink-rollout.md"), "text") if b.startswith("sweep (dry run"))
    age = re.compile(r"  \d+ (d|h|min)  →")
    assert age.sub("  AGE  →", printed) == age.sub("  AGE  →", sample.strip())


def test_the_exit_codes_in_the_deploy_runbook_match_the_cli() -> None:
    text = runbook("deploy.md")
    for line in EXIT_CODES.splitlines()[1:]:
        code, meaning = line.strip().split(None, 1)
        assert f"| {code} | {meaning.split(':')[0].split(',')[0]}" in text, line


def test_the_webhook_secret_example_matches_the_formula() -> None:
    text = runbook("secret-rotation.md")
    app_key = "base64:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    expected = hashlib.md5((app_key + "webhook_key").encode()).hexdigest()
    assert f"`{app_key}` gives\n   `{expected}`" in text


def test_every_runbook_a_runbook_or_the_doctor_points_to_exists() -> None:
    sources = [runbook(name) for name in RUNBOOKS]
    modules = sorted((ROOT / "bridge").rglob("*.py"))
    assert any(path.parent.name == "cli" for path in modules), "the doctor and the CLI are read too"
    sources += [path.read_text(encoding="utf-8") for path in modules]
    for text in sources:
        for name in re.findall(r"runbooks/([a-z0-9-]+\.md)", text):
            assert (ROOT / "runbooks" / name).exists(), name
