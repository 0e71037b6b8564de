"""Liveness, readiness and the admin token, on the real process."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.harness import Bridge, FreeScout, GitHub

pytestmark = pytest.mark.e2e
StartBridge = Callable[..., Bridge]


def test_readyz_reports_each_upstream(fs: FreeScout, gh: GitHub, start_bridge: StartBridge) -> None:
    bridge = start_bridge(register=False)
    ready = httpx.get(f"{bridge.url}/readyz", timeout=20)
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "checks": {"settings": "ok", "freescout": "ok", "github": "ok"}}


def test_readyz_fails_when_github_is_unreachable_while_healthz_stays_up(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(register=False, GITHUB_API_URL="http://127.0.0.1:9")
    assert httpx.get(f"{bridge.url}/healthz", timeout=10).status_code == 200
    ready = httpx.get(f"{bridge.url}/readyz", timeout=20)
    assert ready.status_code == 503
    body = ready.json()
    assert body["ready"] is False and body["checks"]["freescout"] == "ok"
    assert body["checks"]["github"].startswith("connection_error")


def test_admin_token_guards_metrics_and_readyz(fs: FreeScout, gh: GitHub, start_bridge: StartBridge) -> None:
    bridge = start_bridge(register=False, BRIDGE_ADMIN_TOKEN="admin-token-123")
    for path in ("/metrics", "/readyz"):
        refused = httpx.get(f"{bridge.url}{path}", timeout=20)
        assert refused.status_code == 401 and set(refused.json()) == {"error", "message"}
        wrong = httpx.get(f"{bridge.url}{path}", headers={"Authorization": "Bearer nope"}, timeout=20)
        assert wrong.status_code == 401
        ok = httpx.get(f"{bridge.url}{path}", headers={"Authorization": "Bearer admin-token-123"}, timeout=20)
        assert ok.status_code == 200
    assert httpx.get(f"{bridge.url}/healthz", timeout=10).status_code == 200
    assert "admin-token-123" not in "\n".join(bridge.log_lines())
