"""A web process with the status page on a loopback port, fed real signed deliveries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bridge.app import create_app
from bridge.settings import load_settings
from bridge.signature import sign_freescout
from sandbox.serve import ServerThread
from tests.harness import FS_KEY, FS_SECRET, Deployment

STATUS_TOKEN = "status-page-token-5d1e0c"


@contextmanager
def status_web_process(deployment: Deployment, **env: str) -> Iterator[ServerThread]:
    settings = load_settings({**deployment.env, "BRIDGE_ADMIN_TOKEN": STATUS_TOKEN, **env})
    with ServerThread(create_app(settings)) as server:
        yield server


def deliver(deployment: Deployment, server: ServerThread, cid: int, *, secret: str = FS_SECRET) -> int:
    """FreeScout's ``convo.created`` for conversation ``cid``, signed, posted to the support route."""
    raw = deployment.fs.http.get(
        f"/api/conversations/{cid}",
        headers={"X-FreeScout-API-Key": FS_KEY, "Accept": "application/json"},
    ).content
    response = httpx.post(
        f"{server.url}/api/webhooks/freescout/support",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-FreeScout-Event": "convo.created",
            "X-FreeScout-Signature": sign_freescout(raw, secret),
        },
        timeout=10,
    )
    return response.status_code
