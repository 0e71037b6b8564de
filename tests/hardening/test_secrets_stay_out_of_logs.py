"""No secret and no customer email reaches the logs, whatever the delivery's fate.

Planted values: the FreeScout API key, the webhook secret, the GitHub token, the admin token and a
customer's email address. The simulators are configured to accept exactly those credentials, so every
path runs for real: a link, a closing comment, GitHub 503 and 401, FreeScout rejecting the API key, bad
signatures (one of them *is* the webhook secret, pasted into the header by mistake), and the admin
endpoints with right and wrong tokens. Two witnesses: everything a uvicorn subprocess (the Procfile's
command) writes to stdout and stderr, and ``structlog.testing.capture_logs`` with the app's own processors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from bridge import logs
from bridge.app import create_app
from bridge.settings import BridgeConfig, load_settings
from bridge.signature import sign_freescout
from sandbox.freescout_sim import FreeScoutSimConfig
from sandbox.github_sim import GitHubSimConfig
from sandbox.phpjson import dumps as php_json
from sandbox.serve import ServerThread
from tests.harness import Bridge, FreeScout, GitHub, deployment_env, running_freescout, running_github
from tests.helpers import fixture

pytestmark = pytest.mark.e2e
FS_KEY = "PLANTEDfsapikey9d41c07e5b2a6f38"
WEBHOOK_SECRET = "PLANTEDwebhook0c8e2b7a9f1d3e6a5"
GH_TOKEN = "github_pat_PLANTED_7Hq2LmX9vR4sK8wZ1nB6"
ADMIN_TOKEN = "PLANTED-admin-3f9a7c1e5d2b8046"
WRONG_FS_KEY = "PLANTEDwrongkey5e7c9a1b3d2f4e6a"
CUSTOMER = "planted.customer+vip@example.org"
PLANTED = (FS_KEY, WEBHOOK_SECRET, GH_TOKEN, ADMIN_TOKEN, WRONG_FS_KEY, CUSTOMER)
ROUTE = "/api/webhooks/freescout/support"


@pytest.fixture(scope="module")
def sims() -> Iterator[tuple[FreeScout, GitHub]]:
    with (
        running_freescout(FreeScoutSimConfig(api_key=FS_KEY, webhook_secret=WEBHOOK_SECRET)) as fs,
        running_github(GitHubSimConfig(token=GH_TOKEN)) as gh,
    ):
        yield fs, gh


def planted_env(fs: FreeScout, gh: GitHub, **overrides: str) -> dict[str, str]:
    planted = {
        "FREESCOUT_API_KEY": FS_KEY,
        "FREESCOUT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GITHUB_ISSUE_BOT_TOKEN": GH_TOKEN,
        "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
        "LOG_LEVEL": "DEBUG",
    }
    return deployment_env(fs.url, gh.url, **{**planted, **overrides})


def new_conversation(fs: FreeScout, tags: list[str]) -> dict[str, Any]:
    headers = {"X-FreeScout-API-Key": FS_KEY, "Accept": "application/json"}
    body = {
        "type": "email",
        "mailboxId": 2,
        "subject": f"Export broken, write to {CUSTOMER}",
        "customer": {"email": CUSTOMER, "firstName": "Vip"},
        "threads": [
            {"type": "customer", "text": f"<p>reach me at {CUSTOMER}</p>", "customer": {"email": CUSTOMER}}
        ],
    }
    conv = httpx.post(f"{fs.url}/api/conversations", json=body, headers=headers).json()
    httpx.put(f"{fs.url}/api/conversations/{conv['id']}/tags", json={"tags": tags}, headers=headers)
    return dict(conv)


def delivery(
    conv: dict[str, Any], event: str = "convo.created", secret: str = WEBHOOK_SECRET, **changes: Any
) -> tuple[bytes, dict[str, str]]:
    body = fixture("convo.created.json", id=conv["id"], number=conv["number"], **changes)
    body["customer"]["email"] = body["createdBy"]["email"] = CUSTOMER
    raw = php_json(body).encode()
    return raw, {
        "X-FreeScout-Event": event,
        "X-FreeScout-Signature": sign_freescout(raw, secret),
        "Content-Type": "application/json",
    }


def drive_every_path(
    post: Callable[..., httpx.Response], get: Callable[..., httpx.Response], fs: FreeScout, gh: GitHub
) -> list[int]:
    """One of each: link, close, GitHub 503, GitHub 401, bad signatures, admin endpoints. Returns statuses."""
    statuses = []
    linked = new_conversation(fs, ["bug"])
    statuses.append(post(*delivery(linked)).status_code)  # 200 linked
    httpx.post(
        f"{fs.url}/_sim/conversations/{linked['id']}/agent-status", json={"status": "closed", "userId": 3}
    )
    closed = httpx.get(
        f"{fs.url}/api/conversations/{linked['id']}", headers={"X-FreeScout-API-Key": FS_KEY}
    ).json()
    statuses.append(
        post(
            *delivery(
                linked,
                "convo.status",
                status="closed",
                closedAt=closed["closedAt"],
                customFields=closed["customFields"],
            )
        ).status_code
    )
    for status in (503, 401):
        httpx.post(
            f"{gh.url}/_sim/faults", json={"kind": "status", "status": status, "path": "/issues", "times": 0}
        )
        statuses.append(post(*delivery(new_conversation(fs, ["bug"]))).status_code)
        httpx.delete(f"{gh.url}/_sim/faults")
    raw, headers = delivery(linked)
    for bad in (WEBHOOK_SECRET, GH_TOKEN, sign_freescout(raw, FS_KEY)):
        statuses.append(post(raw, {**headers, "X-FreeScout-Signature": bad}).status_code)
    statuses.append(post(*delivery(linked, secret=ADMIN_TOKEN)).status_code)
    for token in (ADMIN_TOKEN, ADMIN_TOKEN[:-1], GH_TOKEN):
        for path in ("/metrics", "/readyz", "/admin/sweep/unknown", "/status", "/status?conversation=1"):
            statuses.append(get(path, headers={"Authorization": f"Bearer {token}"}).status_code)
    return statuses


def assert_clean(text: str) -> None:
    for value in PLANTED:
        assert value not in text, f"{value[:12]}... leaked into the logs"
    assert "planted.customer" not in text


def test_uvicorn_output_carries_no_secret_or_customer_email(
    sims: tuple[FreeScout, GitHub], tmp_path: Path
) -> None:
    fs, gh = sims
    with (
        Bridge(planted_env(fs, gh), tmp_path / "bridge.log", procfile=True) as bridge,
        httpx.Client(base_url=bridge.url, timeout=20) as client,
    ):
        statuses = drive_every_path(
            lambda raw, headers: client.post(ROUTE, content=raw, headers=headers), client.get, fs, gh
        )
        output = bridge.output()
    assert statuses[:4] == [200, 200, 503, 502] and set(statuses[4:8]) == {401}, statuses
    assert_clean(output)
    lines = [json.loads(x) for x in output.splitlines() if x.startswith("{")]
    assert sum(1 for x in lines if x.get("msg") == "delivery") >= 8  # the witness saw the deliveries


def test_a_rejected_freescout_api_key_is_named_not_printed(
    sims: tuple[FreeScout, GitHub], tmp_path: Path
) -> None:
    fs, gh = sims
    env = planted_env(fs, gh, FREESCOUT_API_KEY=WRONG_FS_KEY)
    with Bridge(env, tmp_path / "bridge.log", procfile=True) as bridge:
        conv = new_conversation(fs, ["bug"])
        answer = httpx.post(
            f"{bridge.url}{ROUTE}", content=delivery(conv)[0], headers=delivery(conv)[1], timeout=20
        )
        httpx.get(f"{bridge.url}/readyz", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        output = bridge.output()
    assert answer.status_code == 502 and "FREESCOUT_API_KEY" in answer.json()["message"]
    assert "FREESCOUT_API_KEY" in output
    assert_clean(output)


def test_captured_structlog_events_carry_no_secret_or_customer_email(sims: tuple[FreeScout, GitHub]) -> None:
    fs, gh = sims
    settings = load_settings(planted_env(fs, gh), config=BridgeConfig(github_write_spacing_seconds=0.0))
    logs.REDACTOR.add_secrets(settings.secrets())  # what app_from_env does through logs.configure
    with structlog.testing.capture_logs(processors=logs.processors()) as captured:
        with (
            ServerThread(create_app(settings)) as server,
            httpx.Client(base_url=server.url, timeout=20) as client,
        ):
            drive_every_path(
                lambda raw, headers: client.post(ROUTE, content=raw, headers=headers), client.get, fs, gh
            )
    assert len(captured) >= 8
    assert_clean("\n".join(json.dumps(entry, default=repr) for entry in captured))
