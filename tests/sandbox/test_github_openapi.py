"""Every request the GitHub simulator receives and every answer it gives, checked against
GitHub's own OpenAPI description (tests/data/github-issues.openapi.json)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from github import Auth, Github, GithubException, GithubIntegration

from tests.harness import GitHub
from tests.sandbox import openapi_check


def drive_every_operation(
    gh: Github, raw: httpx.Client, control: httpx.Client, github: GitHub, key: str
) -> None:
    control.post("/_sim/issues", json={"title": "a pull request", "pull_request": True})
    with Github(auth=Auth.Token("gh-sim-token"), base_url=github.url, retry=None) as eager:
        with pytest.raises(GithubException):  # not lazy: GET /repos/acme/app, then the 404
            eager.get_repo("acme/app").get_issue(424242)
    repo = gh.get_repo("acme/app")
    issue = repo.create_issue(
        "Export fails", body="Reported in FreeScout #1287", labels=["bug"], assignees=["octocat"]
    )
    raw.post("/repos/acme/app/issues", json={"body": "no title"})
    raw.post("/repos/acme/app/issues", json={"title": "t", "body": "x" * 65537})
    raw.get(f"/repos/acme/app/issues/{issue.number}")
    raw.get("/repos/acme/app/issues/999")
    raw.patch(f"/repos/acme/app/issues/{issue.number}", json={"state": "closed", "state_reason": "completed"})
    raw.patch(f"/repos/acme/app/issues/{issue.number}", json={"state": "bogus"})
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    list(
        repo.get_issues(
            state="all",
            labels=["bug"],
            sort="updated",
            direction="asc",
            since=datetime.now() - timedelta(days=1),
        )
    )
    raw.get("/repos/acme/app/issues", params={"state": "all", "per_page": 1, "page": 2, "since": since})
    comment = issue.create_comment("Customer confirmed the fix.")
    list(issue.get_comments(since=datetime.now() - timedelta(days=1)))
    raw.get(f"/repos/acme/app/issues/comments/{comment.id}")
    raw.patch(f"/repos/acme/app/issues/comments/{comment.id}", json={"body": "edited"})
    raw.post(f"/repos/acme/app/issues/{issue.number}/comments", json={})
    raw.post(
        f"/repos/acme/app/issues/{issue.number}/labels",
        json={"labels": ["regression", {"name": "freescout-linked"}]},
    )
    issue.add_to_labels("customer-reported")  # bare array: GitHub accepts it, the description does not
    raw.put(f"/repos/acme/app/issues/{issue.number}/labels", json={"labels": ["bug", "regression"]})
    raw.get(f"/repos/acme/app/issues/{issue.number}/labels")
    raw.delete(f"/repos/acme/app/issues/{issue.number}/labels/regression")
    raw.delete(f"/repos/acme/app/issues/{issue.number}/labels/regression")
    raw.delete(f"/repos/acme/app/issues/{issue.number}/labels")
    list(repo.get_labels())
    repo.create_label("triage", "ededed", "Needs triage")
    raw.get("/repos/acme/app/labels/triage")
    raw.get("/repos/acme/app/labels/missing")
    raw.get("/rate_limit")
    app_auth = Auth.AppAuth(4242, key)
    with GithubIntegration(auth=app_auth, base_url=github.url) as integration:
        integration.get_repo_installation("acme", "app")
        integration.get_access_token(777)


KNOWN_REQUEST_DEVIATIONS = {
    # PyGithub's add_to_labels/set_labels send a bare JSON array; GitHub accepts it (the
    # prose allows it), but the described schema only has the object form (docs/upstream/github.md §1).
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
}


def test_traffic_matches_githubs_description(
    gh: Github, gh_raw: httpx.Client, gh_control: httpx.Client, github: GitHub, app_private_key: str
) -> None:
    drive_every_operation(gh, gh_raw, gh_control, github, app_private_key)
    recorded = gh_control.get("/_sim/requests").json()["requests"]
    operations: set[str] = set()
    problems: list[str] = []
    for entry in recorded:
        found = openapi_check.operation(entry["method"], entry["path"])
        assert found is not None, f"{entry['method']} {entry['path']} is not described"
        template, op = found
        operations.add(op["operationId"])
        request_problems = openapi_check.request_errors(
            entry["method"], entry["path"], entry["json"], entry["query"]
        )
        if (entry["method"], template) in KNOWN_REQUEST_DEVIATIONS and isinstance(entry["json"], list):
            assert request_problems, "a bare label array should be flagged by the description"
        elif entry["status"] < 400:  # bad requests on purpose; size limits are not described
            problems += [f"{entry['method']} {entry['path']} request {p}" for p in request_problems]
        problems += [
            f"{entry['method']} {entry['path']} -> {entry['status']} {p}"
            for p in openapi_check.response_errors(
                entry["method"], entry["path"], entry["status"], entry["response"]
            )
        ]
    assert problems == [], "\n".join(problems)
    assert operations >= {
        "repos/get", "issues/create", "issues/get", "issues/update", "issues/list-for-repo",
        "issues/create-comment", "issues/list-comments", "issues/get-comment", "issues/update-comment",
        "issues/add-labels", "issues/set-labels", "issues/list-labels-on-issue", "issues/remove-label",
        "issues/remove-all-labels", "issues/list-labels-for-repo", "issues/create-label", "issues/get-label",
        "apps/get-repo-installation", "apps/create-installation-access-token", "rate-limit/get",
    }  # fmt: skip
    statuses = {entry["status"] for entry in recorded}
    assert {200, 201, 204, 404, 422} <= statuses


def test_checker_flags_what_github_would_reject() -> None:
    assert openapi_check.request_errors("POST", "/repos/acme/app/issues", {"body": "no title"}) == [
        "body <root>: 'title' is a required property"
    ]
    assert openapi_check.request_errors("POST", "/repos/acme/app/issues", {"title": "t", "labels": "bug"})
    assert openapi_check.request_errors("POST", "/repos/acme/app/issues/1/comments", {"body": 5})
    assert openapi_check.request_errors("GET", "/repos/acme/app/issues", query={"state": "bogus"})
    assert openapi_check.request_errors("GET", "/repos/acme/app/issues/abc")
    assert openapi_check.request_errors("POST", "/repos/acme/app/pulls", {}) == [
        "POST /repos/acme/app/pulls: not in the description"
    ]
    ok: dict[str, Any] = {"title": "t", "body": "b", "labels": ["bug"], "assignees": [], "milestone": None}
    assert openapi_check.request_errors("POST", "/repos/acme/app/issues", ok) == []
    with pytest.raises(openapi_check.SchemaMismatch):
        openapi_check.validate_response("GET", "/repos/acme/app/issues/1", 200, {"number": 1})
    assert openapi_check.response_errors("GET", "/repos/acme/app/issues/1", 418, None)
