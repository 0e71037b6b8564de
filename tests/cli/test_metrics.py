"""``/metrics`` moves when deliveries arrive, and needs the bearer token when BRIDGE_ADMIN_TOKEN is set."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge.app import create_app
from bridge.settings import load_settings
from bridge.signature import sign_freescout
from sandbox.serve import ServerThread
from tests.harness import FS_SECRET, ROOT, Deployment

ADMIN_TOKEN = "admin-token-for-tests"


def deliveries(metrics_text: str) -> dict[tuple[str, str, str, str], float]:
    """``bridge_deliveries_total`` samples by (event, route, outcome, reason)."""
    found: dict[tuple[str, str, str, str], float] = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "bridge_deliveries_total":
                labels = sample.labels
                found[(labels["event"], labels["route"], labels["outcome"], labels["reason"])] = sample.value
    return found


@pytest.fixture
def bridge(deployment: Deployment) -> Iterator[ServerThread]:
    """The web app itself, in shadow mode, on a loopback port, talking to the simulators."""
    settings = load_settings({**deployment.env, "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN})
    with ServerThread(create_app(settings)) as server:
        yield server


def scrape(client: httpx.Client, server: ServerThread) -> dict[tuple[str, str, str, str], float]:
    response = client.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 200
    return deliveries(response.text)


def test_metrics_needs_the_admin_token(bridge: ServerThread) -> None:
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{bridge.url}/metrics").status_code == 401
        wrong = client.get(f"{bridge.url}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert client.get(f"{bridge.url}/healthz").status_code == 200


def test_a_signed_delivery_moves_the_delivery_counter(deployment: Deployment, bridge: ServerThread) -> None:
    cid = deployment.fs.email(tags=["bug"], mailbox=2)["id"]
    raw = deployment.fs.http.get(
        f"/api/conversations/{cid}",
        headers={"X-FreeScout-API-Key": deployment.env["FREESCOUT_API_KEY"], "Accept": "application/json"},
    ).content
    key = ("convo.created", "support", "would_link", "tag:bug")
    with httpx.Client(timeout=10) as client:
        before = scrape(client, bridge)
        response = client.post(
            f"{bridge.url}/api/webhooks/freescout/support",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-FreeScout-Event": "convo.created",
                "X-FreeScout-Signature": sign_freescout(raw, FS_SECRET),
            },
        )
        assert response.status_code == 200 and response.json()["outcome"] == "would_link"
        forged = client.post(
            f"{bridge.url}/api/webhooks/freescout/support",
            content=raw,
            headers={
                "X-FreeScout-Event": "convo.created",
                "X-FreeScout-Signature": sign_freescout(raw, "x" * 32),
            },
        )
        assert forged.status_code == 401
        after = scrape(client, bridge)
    assert after.get(key, 0) == before.get(key, 0) + 1
    assert after[("convo.created", "support", "refused", "signature_mismatch")] == 1
    assert deployment.gh.writes() == [], "shadow mode wrote nothing"


def test_deliveries_sent_by_freescout_itself_are_counted(
    deployment: Deployment, bridge: ServerThread
) -> None:
    """The FreeScout simulator signs and delivers convo.created to the webhook URL check prints."""
    deployment.fs.register_webhook(f"{bridge.url}/api/webhooks/freescout/ops", ["convo.created"])
    deployment.fs.email(tags=["billing"], mailbox=1)
    idle = deployment.fs.http.post("/_sim/wait-idle", json={"timeout": 20})
    assert idle.json()["idle"] is True
    with httpx.Client(timeout=10) as client:
        counted = scrape(client, bridge)
    assert counted[("convo.created", "ops", "ignore", "no_trigger_tag")] == 1


OPS_FILES = (ROOT / "ops" / "prometheus" / "alerts.yml", ROOT / "ops" / "grafana" / "bridge-dashboard.json")


def test_the_dashboard_and_alert_rules_read_only_series_the_bridge_exports(
    deployment: Deployment, bridge: ServerThread
) -> None:
    """Every ``bridge_*`` series named in ops/ is on a real scrape, and no ``*_created`` noise is."""
    cid = deployment.fs.email(tags=["bug"], mailbox=2)["id"]
    raw = deployment.fs.http.get(
        f"/api/conversations/{cid}",
        headers={"X-FreeScout-API-Key": deployment.env["FREESCOUT_API_KEY"], "Accept": "application/json"},
    ).content
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{bridge.url}/readyz", headers=auth).json()["ready"] is True
        client.post(
            f"{bridge.url}/api/webhooks/freescout/support",
            content=raw,
            headers={
                "X-FreeScout-Event": "convo.created",
                "X-FreeScout-Signature": sign_freescout(raw, FS_SECRET),
            },
        ).raise_for_status()
        text = client.get(f"{bridge.url}/metrics", headers=auth).text
    exported = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    assert not [name for name in exported if name.endswith("_created")]
    used = {name for path in OPS_FILES for name in re.findall(r"\bbridge_[a-z_]+", path.read_text("utf-8"))}
    assert used, "the ops files name no bridge series"
    assert sorted(used - exported) == []
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }
    assert samples[("bridge_github_write_budget_remaining", (("window", "hour"),))] == 400
    assert samples[("bridge_github_retry_after_seconds", ())] == 0
    assert samples[("bridge_sweeps_total", (("result", "failed"),))] == 0
    for api in ("freescout", "github"):
        assert samples[("bridge_upstream_last_success_timestamp_seconds", (("api", api),))] > 1.7e9
