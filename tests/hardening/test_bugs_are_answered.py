"""A bug inside a delivery is answered and logged like every other failure, never Starlette's plain 500.

The bug is injected: a GitHub double whose every call raises. The answer is JSON ``{"error":
"internal_error", "message"}`` with status 500 (so FreeScout redelivers), the summary line says
``outcome`` failed with the exception's type as ``reason`` and carries the traceback, the delivery metric
counts it, and the customer's text never reaches the log. Checked in process and through the Procfile's
uvicorn command.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from bridge import logs
from bridge.app import create_app
from bridge.settings import load_settings
from sandbox.serve import ServerThread
from tests.hardening.conftest import ADMIN_TOKEN, bridge_settings
from tests.harness import REPO, Bridge, FreeScout, deployment_env
from tests.helpers import fixture, signed

pytestmark = pytest.mark.e2e
ROUTE = "/api/webhooks/freescout/support"
CUSTOMER_TEXT = "planted-customer-words-4b7e"
METRIC = (
    'bridge_deliveries_total{event="convo.created",outcome="failed",reason="InjectedBug",route="support"} 1.0'
)


class InjectedBug(Exception):
    """What a programming error looks like to the web edge: not one of the bridge's own errors."""


class BrokenGitHub:
    """Stands in for ``GitHubIssues``: every method raises, whatever the linker calls first."""

    repository = REPO

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def broken(*_args: Any, **_kwargs: Any) -> Any:
            raise InjectedBug(f"{name} is broken on purpose")

        return broken


def app() -> Any:
    """The uvicorn factory for the subprocess check: the real app, settings from the environment."""
    settings = load_settings(os.environ)
    logs.configure(settings.secrets(), "INFO")
    return create_app(settings, github=BrokenGitHub())  # type: ignore[arg-type]


def tagged_delivery(freescout: FreeScout) -> tuple[bytes, dict[str, str]]:
    """A conversation that reaches GitHub: tagged ``bug`` in a handled mailbox, with the customer's text."""
    conv = freescout.api(
        "POST",
        "/conversations",
        {
            "type": "email",
            "mailboxId": 2,
            "subject": f"subject {CUSTOMER_TEXT}",
            "customer": {"email": "dana@example.com"},
            "threads": [
                {
                    "type": "customer",
                    "text": f"<p>{CUSTOMER_TEXT}</p>",
                    "customer": {"email": "dana@example.com"},
                }
            ],
        },
    )
    freescout.api("PUT", f"/conversations/{conv['id']}/tags", {"tags": ["bug"]})
    body = fixture("convo.created.json", id=conv["id"], number=conv["number"], subject=f"re {CUSTOMER_TEXT}")
    return signed(body, "convo.created")


def assert_answered(answer: httpx.Response) -> None:
    assert answer.status_code == 500, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": "internal_error",
        "message": "the bridge failed unexpectedly (InjectedBug); its log has the details",
    }


def test_a_bug_in_a_delivery_is_answered_in_json_logged_and_counted(freescout: FreeScout) -> None:
    settings = bridge_settings(freescout.url)
    with structlog.testing.capture_logs(processors=logs.processors()) as captured:
        with (
            ServerThread(create_app(settings, github=BrokenGitHub())) as server,  # type: ignore[arg-type]
            httpx.Client(base_url=server.url, timeout=20) as client,
        ):
            raw, headers = tagged_delivery(freescout)
            answer = client.post(ROUTE, content=raw, headers=headers)
            metrics = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).text
    assert_answered(answer)
    [line] = [entry for entry in captured if entry["msg"] == "delivery"]
    assert (line["outcome"], line["reason"], line["status"], line["level"]) == (
        "failed",
        "InjectedBug",
        500,
        "error",
    )
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert "InjectedBug: " in line["exception"] and "exc_info" not in line
    assert CUSTOMER_TEXT not in json.dumps(captured, default=repr)
    assert METRIC in metrics


def test_a_bug_is_answered_by_the_procfile_process_too(freescout: FreeScout, tmp_path: Path) -> None:
    env = deployment_env(freescout.url, BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN)
    bridge = Bridge(env, tmp_path / "bridge.log", procfile=True)
    bridge.app = f"{__name__}:app"
    with bridge:
        raw, headers = tagged_delivery(freescout)
        answer = httpx.post(f"{bridge.url}{ROUTE}", content=raw, headers=headers, timeout=20)
        metrics = httpx.get(f"{bridge.url}/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).text
        output = bridge.output()
    assert_answered(answer)
    lines = [json.loads(x) for x in output.splitlines() if x.startswith("{")]
    [line] = [x for x in lines if x.get("msg") == "delivery"]
    assert (line["outcome"], line["reason"], line["status"]) == ("failed", "InjectedBug", 500)
    assert "Traceback (most recent call last):" in line["exception"]
    assert CUSTOMER_TEXT not in output and "Exception in ASGI application" not in output
    assert METRIC in metrics
