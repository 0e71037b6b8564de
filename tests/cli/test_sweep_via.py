"""``freescout-bridge sweep`` hands its pass to the web process (``BRIDGE_URL`` / ``--via``).

The command prints what a local pass prints, plus where it ran; if no web process answers it runs
nothing, prints the exact ``--local`` command and exits 3 (the operator decides); a refused token is a
settings error (exit 2), never a silent local pass.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bridge.app import create_app
from bridge.cli.doctor import Exit
from bridge.cli.remote import Delegation, run_sweep_via
from bridge.settings import load_settings
from sandbox.serve import ServerThread
from tests.cli.test_sync_sweep import field_value
from tests.harness import Deployment

TOKEN = "admin-token-via-91ab"
LIVE = {"FLAG_FREESCOUT_GITHUB_AUTOLINK": "true"}
NOBODY = "http://127.0.0.1:9"  # nothing listens on the discard port


@pytest.fixture
def web(deployment: Deployment) -> Iterator[str]:
    """The web process (flag on, admin token set) on a loopback port; its base URL."""
    settings = load_settings({**deployment.env, **LIVE, "BRIDGE_ADMIN_TOKEN": TOKEN})
    with ServerThread(create_app(settings)) as server:
        yield server.url


def test_a_delegated_pass_prints_what_a_local_pass_prints(deployment: Deployment, web: str) -> None:
    deployment.fs.email(tags=["bug"], mailbox=1)
    deployment.fs.email(tags=["feature_request"], mailbox=2)
    local = deployment.cli("sweep", "--dry-run", **LIVE)
    via = deployment.cli("sweep", "--dry-run", BRIDGE_URL=web, BRIDGE_ADMIN_TOKEN=TOKEN, **LIVE)
    assert (local.returncode, via.returncode) == (0, 0), via.stderr
    lines = via.stdout.splitlines()
    assert "\n".join(lines[:-1]) + "\n" == local.stdout
    assert lines[-1].startswith(f"  note: ran in the web process at {web} (sweep ")
    assert deployment.gh.writes() == []


def test_a_delegated_pass_links_in_the_web_process(deployment: Deployment, web: str) -> None:
    ops = deployment.fs.email(tags=["bug"], mailbox=1)["id"]
    support = deployment.fs.email(tags=["bug"], mailbox=2)["id"]
    code, data = deployment.cli_json(
        "sweep", "--via", web, "--mailbox", "ops@example.com", BRIDGE_ADMIN_TOKEN=TOKEN
    )
    assert code == 0, data
    assert (data["via"], data["joined"], data["dry_run"], data["autolink_enabled"]) == (
        web,
        False,
        False,
        True,
    )
    assert data["candidates"] == 1 and data["outcomes"] == {"linked": 1} and data["exit_code"] == 0
    assert data["issue_urls"] == {str(ops): field_value(deployment, ops)}
    assert field_value(deployment, support) == ""


def test_exit_codes_and_errors_come_back_from_the_web_process(deployment: Deployment, web: str) -> None:
    code, data = deployment.cli_json(
        "sweep", "--mailbox", "nobody@example.com", BRIDGE_URL=web, BRIDGE_ADMIN_TOKEN=TOKEN
    )
    assert code == 2
    assert data["error"] == "unknown_mailbox" and data["via"] == web
    assert data["message"] == "unknown --mailbox: nobody@example.com (FreeScout has no such mailbox)"


def test_with_no_web_process_answering_nothing_runs_and_the_local_command_is_printed(
    deployment: Deployment,
) -> None:
    """Whether a pass runs beside a web process that may only look down is the operator's decision."""
    cid = deployment.fs.email(tags=["bug"], mailbox=1)["id"]
    env = {"BRIDGE_URL": NOBODY, "BRIDGE_ADMIN_TOKEN": TOKEN, **LIVE}
    code, data = deployment.cli_json("sweep", "--mailbox", "ops@example.com", **env)
    assert code == 3 and (data["error"], data["via"]) == ("web_unreachable", NOBODY), data
    assert data["command"] == "freescout-bridge sweep --local --mailbox ops@example.com"
    assert data["message"].startswith(f"no web process answers at {NOBODY} (ConnectError")
    assert data["message"].endswith(f"so no pass ran. If it is down, run the pass here: {data['command']}")
    assert deployment.gh.writes() == [] and field_value(deployment, cid) == ""
    text = deployment.cli("sweep", "--dry-run", **env)
    assert text.returncode == 3
    assert text.stdout.endswith("run the pass here: freescout-bridge sweep --local --dry-run\n")
    # The printed command is the way to run it, and it runs here.
    code, data = deployment.cli_json(*shlex.split(data["command"])[1:], **env)
    assert code == 0 and data["via"] == "local" and data["outcomes"] == {"linked": 1}, data
    assert field_value(deployment, cid)


def test_local_ignores_bridge_url(deployment: Deployment, web: str) -> None:
    deployment.fs.email(tags=["bug"], mailbox=2)
    code, data = deployment.cli_json(
        "sweep", "--local", "--dry-run", BRIDGE_URL=web, BRIDGE_ADMIN_TOKEN=TOKEN
    )
    assert code == 0 and data["via"] == "local" and data["outcomes"] == {"would_link": 1}
    plain = deployment.cli_json("sweep", "--dry-run")[1]
    assert plain["via"] == "local"


def test_a_writing_local_pass_is_refused_while_the_web_process_answers(
    deployment: Deployment, web: str
) -> None:
    """The single writer is up: a pass beside it could race its webhooks, so --local is refused."""
    cid = deployment.fs.email(tags=["bug"], mailbox=2)["id"]
    code, data = deployment.cli_json("sweep", "--local", BRIDGE_URL=web, BRIDGE_ADMIN_TOKEN=TOKEN, **LIVE)
    assert code == 2 and data["error"] == "web_process_running", data
    assert f"the web process at {web} answers" in data["message"] and "without --local" in data["message"]
    assert deployment.gh.writes() == [] and field_value(deployment, cid) == ""
    # Down (nothing answers at BRIDGE_URL): exactly what --local is for.
    code, data = deployment.cli_json("sweep", "--local", BRIDGE_URL=NOBODY, BRIDGE_ADMIN_TOKEN=TOKEN, **LIVE)
    assert code == 0 and data["via"] == "local" and data["outcomes"] == {"linked": 1}, data
    assert field_value(deployment, cid)


@pytest.fixture
def busy() -> Iterator[str]:
    """Something that answers every request like uvicorn at --limit-concurrency: 503, plain text."""

    async def unavailable(_request: Request) -> Response:
        return PlainTextResponse("Service Unavailable", status_code=503)

    app = Starlette(routes=[Route("/{path:path}", unavailable, methods=["GET", "POST"])])
    with ServerThread(app) as server:
        yield server.url


def test_a_busy_web_process_is_asked_again_never_swept_around(deployment: Deployment, busy: str) -> None:
    """A 503 may be the web process at its concurrency limit: a local pass then could race its webhooks."""
    cid = deployment.fs.email(tags=["bug"], mailbox=2)["id"]
    settings = load_settings({**deployment.env, **LIVE, "BRIDGE_ADMIN_TOKEN": TOKEN})
    plan = Delegation(busy, poll_seconds=0.05, lost_after_seconds=0.5)
    result = asyncio.run(run_sweep_via(settings, busy, dry_run=False, mailboxes=(), delegation=plan))
    assert result.exit == Exit.UNREACHABLE and result.data["error"] == "web_unavailable", result.data
    assert "BRIDGE_URL= freescout-bridge sweep --local" in result.data["message"]
    assert deployment.gh.writes() == [] and field_value(deployment, cid) == ""
    code, data = deployment.cli_json("sweep", "--local", BRIDGE_URL=busy, BRIDGE_ADMIN_TOKEN=TOKEN, **LIVE)
    assert code == 2 and data["error"] == "web_process_running", data
    assert deployment.gh.writes() == []


def test_a_bridge_url_without_a_scheme_is_refused_for_local_passes_too(deployment: Deployment) -> None:
    code, data = deployment.cli_json("sweep", "--local", BRIDGE_URL="bridge.example.com", **LIVE)
    assert code == 2 and "http:// or https://" in data["message"]
    assert deployment.gh.writes() == []


def test_a_mailbox_written_in_other_digits_is_a_name_not_a_crash(deployment: Deployment) -> None:
    code, data = deployment.cli_json("sweep", "--local", "--dry-run", "--mailbox", "²")
    assert code == 2 and data["error"] == "unknown_mailbox", data


def test_via_and_local_exclude_each_other(deployment: Deployment) -> None:
    result = deployment.cli("sweep", "--local", "--via", NOBODY)
    assert result.returncode == 2 and "not allowed with argument" in result.stderr


@pytest.mark.parametrize(
    ("env", "error", "words"),
    [
        ({"BRIDGE_ADMIN_TOKEN": "wrong"}, "admin_token_rejected", "refused BRIDGE_ADMIN_TOKEN (HTTP 401)"),
        ({}, "settings", "needs BRIDGE_ADMIN_TOKEN"),
    ],
)
def test_a_token_problem_is_a_settings_error_not_a_local_pass(
    deployment: Deployment, web: str, env: dict[str, str], error: str, words: str
) -> None:
    deployment.fs.email(tags=["bug"], mailbox=2)
    code, data = deployment.cli_json("sweep", BRIDGE_URL=web, **env, **LIVE)
    assert code == 2
    assert data["error"] == error and words in data["message"]
    assert "--local" in data["message"] and TOKEN not in data["message"]
    assert deployment.gh.writes() == []


def test_a_web_process_without_a_token_is_a_settings_error(deployment: Deployment) -> None:
    settings = load_settings({**deployment.env, **LIVE})
    with ServerThread(create_app(settings)) as server:
        code, data = deployment.cli_json("sweep", BRIDGE_URL=server.url, BRIDGE_ADMIN_TOKEN=TOKEN)
    assert code == 2 and data["error"] == "admin_disabled"
    assert "has no BRIDGE_ADMIN_TOKEN" in data["message"]


def test_a_url_that_is_not_the_bridge_is_a_settings_error(deployment: Deployment) -> None:
    code, data = deployment.cli_json("sweep", "--via", deployment.fs.url, BRIDGE_ADMIN_TOKEN=TOKEN)
    assert code == 2 and data["error"] == "no_admin_endpoint"
    code, data = deployment.cli_json("sweep", "--via", "bridge.example.com", BRIDGE_ADMIN_TOKEN=TOKEN)
    assert code == 2 and "http:// or https://" in data["message"]
