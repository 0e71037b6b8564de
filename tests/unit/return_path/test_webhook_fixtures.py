"""The real octokit payloads the return path is tested with validate against GitHub's webhook schemas."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator

from tests.unit.return_path.samples import gh

SCHEMAS = Path(__file__).resolve().parents[2] / "data" / "github-webhooks.openapi.json"


@cache
def components() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMAS.read_text(encoding="utf-8"))["components"]
    return loaded


def errors(payload: dict[str, Any], schema: str) -> list[str]:
    validator = OAS31Validator({"$ref": f"#/components/schemas/{schema}", "components": components()})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]


@pytest.mark.parametrize(
    ("fixture", "schema"),
    [
        ("issues.closed", "webhook-issues-closed"),
        ("issues.reopened", "webhook-issues-reopened"),
        ("issue_comment.created", "webhook-issue-comment-created"),
        ("ping", "webhook-ping"),
    ],
)
def test_fixture_validates(fixture: str, schema: str) -> None:
    assert errors(gh(fixture), schema) == []


@pytest.mark.parametrize("reason", ["not_planned", "duplicate"])
def test_other_close_reasons_validate_too(reason: str) -> None:
    payload = gh("issues.closed")
    payload["issue"]["state_reason"] = reason
    assert errors(payload, "webhook-issues-closed") == []


@pytest.mark.parametrize(
    ("field", "value"), [("action", "closd"), ("sender", None), ("issue", {"number": "1"})]
)
def test_a_broken_payload_does_not_validate(field: str, value: Any) -> None:
    payload = gh("issues.closed")
    payload[field] = value
    assert errors(payload, "webhook-issues-closed")


def test_each_action_has_its_own_schema() -> None:
    assert errors(gh("issues.reopened"), "webhook-issues-closed")
    assert errors(gh("issues.closed"), "webhook-issues-reopened")
