"""Upstreams for the hardening tests: the local simulators on loopback ports, once per session.

The FreeScout simulator's recorded requests are the witness for "no upstream call": tests clear them after
the bridge's start-up mailbox list and read them after the deliveries they drive.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge.settings import BridgeConfig, Settings, load_settings
from tests.harness import NOWHERE, FreeScout, GitHub, deployment_env, running_freescout, running_github

ADMIN_TOKEN = "admin-token-5e1f9c0b7a"


@pytest.fixture(scope="session")
def freescout() -> Iterator[FreeScout]:
    with running_freescout() as sim:
        yield sim


@pytest.fixture(scope="session")
def github() -> Iterator[GitHub]:
    with running_github() as sim:
        yield sim


def bridge_settings(freescout_url: str, github_url: str = NOWHERE, **config: Any) -> Settings:
    """The web process's settings for an in-process app, with ``config`` in place of the TOML."""
    env = deployment_env(freescout_url, github_url, BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN)
    return load_settings(env, config=BridgeConfig(**config))


def loopback_client(base_url: str) -> httpx.Client:
    """A client with TCP_NODELAY: without it, headers and body in two writes wait 40 ms for a delayed ACK."""
    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.Client(base_url=base_url, timeout=10, transport=transport)


def assert_refusal(response: httpx.Response) -> None:
    """Every 4xx carries exactly ``{"error": str, "message": str}``."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error", "message"}, body
    assert isinstance(body["error"], str) and isinstance(body["message"], str)
