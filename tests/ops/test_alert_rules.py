"""The Prometheus alert rules in ops/prometheus are valid and behave as their unit tests say.

``promtool check rules`` checks the syntax and the PromQL; ``promtool test rules`` replays the series of
alerts.test.yml (a web process that stops answering, failing deliveries, a spent GitHub budget, a sweep
that stops or fails, an unreachable upstream) and checks which alerts fire and which stay quiet.
"""

from __future__ import annotations

import subprocess
from typing import Any

import yaml

from tests.ops.tools import OPS, require

RULES = OPS / "prometheus" / "alerts.yml"
RULE_TESTS = OPS / "prometheus" / "alerts.test.yml"
PAGING = {
    "BridgeDown",
    "BridgeDeliveriesFailing",
    "BridgeWebhookSignaturesRejected",
    "BridgeUpstreamUnreachable",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require("promtool"), *args],
        cwd=RULES.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def alerts() -> list[dict[str, Any]]:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in data["groups"] for rule in group["rules"] if "alert" in rule]


def test_promtool_accepts_the_rules() -> None:
    result = promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


def test_the_rules_pass_their_unit_tests() -> None:
    result = promtool("test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_case_that_fires_it() -> None:
    cases = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    fired = {
        check["alertname"] for case in cases for check in case["alert_rule_test"] if check.get("exp_alerts")
    }
    assert {rule["alert"] for rule in alerts()} == fired


def test_the_issue_s_four_conditions_are_covered_and_each_alert_says_what_to_read() -> None:
    names = {rule["alert"] for rule in alerts()}
    wanted = {
        "BridgeDeliveriesFailing",
        "BridgeGitHubBudgetExhausted",
        "BridgeSweepFailing",
        "BridgeSweepNotRunning",
        "BridgeUpstreamUnreachable",
    }
    assert wanted <= names
    for rule in alerts():
        assert rule["labels"]["severity"] == ("page" if rule["alert"] in PAGING else "warning")
        assert rule.get("for"), f"{rule['alert']} fires on one bad scrape"
        runbook = rule["annotations"]["runbook"]
        assert (OPS.parent / runbook).is_file(), f"{rule['alert']} points at a missing {runbook}"
