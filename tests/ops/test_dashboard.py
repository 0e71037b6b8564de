"""The Grafana dashboard in ops/grafana is importable JSON whose every query is valid PromQL.

Grafana's own variables are replaced by sample values and each query becomes a recording rule, so
``promtool check rules`` parses it exactly as Prometheus would. (That each ``bridge_*`` series it reads
is on a real scrape is checked by tests/cli/test_metrics.py.)
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.ops.tools import OPS, require

DASHBOARD = OPS / "grafana" / "bridge-dashboard.json"
GRAFANA_VARIABLES = {
    "$__rate_interval": "2m",
    "$__interval": "1m",
    "$__range": "24h",
    "$job": ".*",
    "$instance": ".*",
}


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def queries() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def test_the_dashboard_has_a_stable_uid_unique_panels_and_a_datasource_variable() -> None:
    data = dashboard()
    assert data["uid"] == "freescout-github-bridge"
    ids = [p["id"] for p in data["panels"]]
    assert len(ids) == len(set(ids))
    assert {v["name"] for v in data["templating"]["list"]} == {"datasource", "job", "instance"}
    for panel in data["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert panel["targets"], panel["title"]


def test_the_dashboard_shows_what_the_issue_asks_for() -> None:
    text = " ".join(queries())
    for series in (
        "bridge_deliveries_total",
        "bridge_upstream_calls_total",
        "bridge_upstream_latency_seconds_bucket",
        "bridge_github_write_budget_remaining",
        "bridge_sweeps_total",
    ):
        assert series in text
    assert any('outcome=~"failed|retry_later|refused"' in q for q in queries()), "no errors panel"


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    rules = []
    for number, query in enumerate(queries()):
        for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
            query = query.replace(variable, value)
        assert "$" not in query, query
        rules.append({"record": f"dashboard:query_{number}", "expr": query})
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    result = subprocess.run(
        [require("promtool"), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
