"""PyGithub 2.10 against the local GitHub simulator: issues, pagination, comments, labels, App auth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from github import (
    Auth,
    BadCredentialsException,
    Github,
    GithubException,
    GithubIntegration,
    UnknownObjectException,
)

from sandbox import github_sim
from tests.harness import GitHub


def seed(control: httpx.Client, **spec: Any) -> Any:
    response = control.post("/_sim/issues", json={"title": "seeded", **spec})
    assert response.status_code == 201
    return response.json()


def requests_made(control: httpx.Client) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = control.get("/_sim/requests").json()["requests"]
    return entries


def test_create_issue_returns_the_full_issue(gh: Github, github: GitHub, gh_control: httpx.Client) -> None:
    issue = gh.get_repo("acme/app").create_issue(
        "CSV export fails", body="From FreeScout #1287", labels=["bug", "brand-new"]
    )
    assert issue.number == 1 and issue.state == "open" and issue.pull_request is None
    assert issue.html_url == "https://github.com/acme/app/issues/1"
    assert issue.url == f"{github.url}/repos/acme/app/issues/1"
    assert [label.name for label in issue.labels] == ["bug", "brand-new"]
    assert issue.user.login == "bridge-bot" and issue.body == "From FreeScout #1287"
    (entry,) = requests_made(gh_control)
    assert entry["status"] == 201 and entry["response_headers"]["location"] == issue.url
    assert entry["headers"]["authorization"] == "<redacted>"
    assert [lb["name"] for lb in gh_control.get("/_sim/state").json()["repos"][0]["labels"]][
        -1
    ] == "brand-new"


def test_list_follows_link_headers_across_more_than_100_issues(
    github: GitHub, gh_control: httpx.Client
) -> None:
    seed(gh_control, title="bulk", count=230)
    seed(gh_control, title="a pull request", pull_request=True)
    with Github(auth=Auth.Token("gh-sim-token"), base_url=github.url, lazy=True, per_page=100, retry=None,
                seconds_between_requests=None, seconds_between_writes=None) as client:  # fmt: skip
        items = list(client.get_repo("acme/app").get_issues(state="open"))
    assert len(items) == 231
    assert [i.number for i in items[:2]] == [231, 230]  # created, desc
    assert sum(1 for i in items if i.pull_request is not None) == 1
    lists = [r for r in requests_made(gh_control) if r["path"] == "/repos/acme/app/issues"]
    assert [r["query"].get("page") for r in lists] == [None, "2", "3"]
    assert 'rel="first"' in lists[-1]["response_headers"]["link"]


def test_reading_pull_request_on_a_listed_plain_issue_fetches_it(
    gh: Github, gh_control: httpx.Client
) -> None:
    """PyGithub quirk the service should know: an absent key makes the object complete itself."""
    seed(gh_control, count=3)
    items = list(gh.get_repo("acme/app").get_issues())
    assert len(requests_made(gh_control)) == 1
    assert [i.pull_request for i in items] == [None, None, None]
    assert [r["path"] for r in requests_made(gh_control)][1:] == [
        f"/repos/acme/app/issues/{n}" for n in (3, 2, 1)
    ]


def test_link_header_relations(gh_raw: httpx.Client, gh_control: httpx.Client, github: GitHub) -> None:
    seed(gh_control, count=5)
    first = gh_raw.get("/repos/acme/app/issues", params={"per_page": 2})
    assert first.headers["link"] == (
        f'<{github.url}/repos/acme/app/issues?per_page=2&page=2>; rel="next", '
        f'<{github.url}/repos/acme/app/issues?per_page=2&page=3>; rel="last"'
    )
    middle = gh_raw.get("/repos/acme/app/issues", params={"per_page": 2, "page": 2}).headers["link"]
    assert [part.split("; ")[1] for part in middle.split(", ")] == [
        'rel="prev"',
        'rel="next"',
        'rel="last"',
        'rel="first"',
    ]
    assert "link" not in gh_raw.get("/repos/acme/app/issues").headers
    assert len(gh_raw.get("/repos/acme/app/issues", params={"per_page": 500}).json()) == 5


def test_list_filters(gh: Github, gh_control: httpx.Client) -> None:
    seed(gh_control, title="both", labels=["bug", "freescout-linked"])
    seed(gh_control, title="bug only", labels=["bug"], user="someone")
    seed(gh_control, title="closed", labels=["bug", "freescout-linked"], state="closed")
    repo = gh.get_repo("acme/app")
    assert [i.title for i in repo.get_issues(labels=["bug", "freescout-linked"])] == ["both"]
    assert [i.title for i in repo.get_issues(state="closed")] == ["closed"]
    by_someone = repo.get_issues(creator="someone")  # type: ignore[arg-type]  # PyGithub sends a login
    assert [i.title for i in by_someone] == ["bug only"]
    assert [i.title for i in repo.get_issues(state="all", sort="created", direction="asc")] == [
        "both",
        "bug only",
        "closed",
    ]
    future = datetime.now(UTC) + timedelta(days=1)
    assert list(repo.get_issues(since=future.replace(tzinfo=None))) == []


def test_comments_are_created_and_listed_in_ascending_id_order(gh: Github, gh_control: httpx.Client) -> None:
    number = seed(gh_control)["number"]
    issue = gh.get_repo("acme/app").get_issue(number)
    created = [issue.create_comment(f"comment {k}") for k in range(3)]
    assert [r["method"] for r in requests_made(gh_control)] == ["POST"] * 3  # lazy: one POST each
    listed = list(issue.get_comments())
    assert [c.id for c in listed] == sorted(c.id for c in created)
    assert listed[0].body == "comment 0" and listed[0].html_url.endswith(f"#issuecomment-{created[0].id}")
    assert gh.get_repo("acme/app").get_issue(number).comments == 3


def test_labels_add_set_remove(gh: Github, gh_raw: httpx.Client, gh_control: httpx.Client) -> None:
    number = seed(gh_control, labels=["bug"])["number"]
    issue = gh.get_repo("acme/app").get_issue(number)
    issue.add_to_labels("regression", "Customer-Reported")  # PyGithub sends a bare array
    added = gh_raw.post(
        f"/repos/acme/app/issues/{number}/labels", json={"labels": ["needs-customer-confirm"]}
    )
    assert added.status_code == 200
    assert [lb["name"] for lb in added.json()] == [
        "bug",
        "regression",
        "customer-reported",
        "needs-customer-confirm",
    ]
    issue.set_labels("enhancement")
    assert [lb.name for lb in gh.get_repo("acme/app").get_issue(number).labels] == ["enhancement"]
    issue.remove_from_labels("enhancement")
    assert gh_raw.delete(f"/repos/acme/app/issues/{number}/labels/enhancement").status_code == 404
    assert gh_raw.post(f"/repos/acme/app/issues/{number}/labels", json={"labels": []}).status_code == 422


def test_repository_labels(gh: Github, gh_raw: httpx.Client) -> None:
    repo = gh.get_repo("acme/app")
    names = [label.name for label in repo.get_labels()]
    assert names == list(github_sim.DEFAULT_LABELS)
    repo.create_label("triage", "ff0000", "Needs triage")
    assert repo.get_label("TRIAGE").color == "ff0000"
    with pytest.raises(GithubException) as exc:
        repo.create_label("triage", "00ff00")
    assert exc.value.status == 422
    assert gh_raw.get("/repos/acme/app/labels/nope").status_code == 404


def test_edit_closes_and_reopens(gh: Github, gh_control: httpx.Client) -> None:
    number = seed(gh_control)["number"]
    issue = gh.get_repo("acme/app").get_issue(number)
    issue.edit(state="closed", state_reason="not_planned")
    closed = gh.get_repo("acme/app").get_issue(number)
    assert closed.closed_by is not None and closed.closed_by.login == "bridge-bot"
    assert (closed.state, closed.state_reason) == ("closed", "not_planned")
    issue.edit(state="open")
    reopened = gh.get_repo("acme/app").get_issue(number)
    assert (reopened.state, reopened.state_reason) == ("open", "reopened") and reopened.closed_at is None


def test_validation_errors_and_size_limits(
    gh: Github, gh_raw: httpx.Client, gh_control: httpx.Client
) -> None:
    missing = gh_raw.post("/repos/acme/app/issues", json={"body": "no title"})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"resource": "Issue", "field": "title", "code": "missing_field"}]
    with pytest.raises(GithubException) as exc:
        gh.get_repo("acme/app").create_issue("big", body="x" * 65537)
    assert exc.value.status == 422 and "65536" in exc.value.data["errors"][0]["message"]
    ok = gh.get_repo("acme/app").create_issue("exactly at the limit", body="😀" * 65536)
    number = seed(gh_control, body="old body")["number"]
    edited = gh_raw.patch(f"/repos/acme/app/issues/{number}", json={"body": "y" * 70000})
    assert edited.status_code == 200 and edited.json()["body"] == "old body"  # the silent-keep quirk
    comment = gh_raw.post(f"/repos/acme/app/issues/{ok.number}/comments", json={"body": "z" * 65537})
    assert comment.status_code == 422 and comment.json()["errors"][0]["resource"] == "IssueComment"
    assert gh_raw.get("/repos/acme/app/issues", params={"state": "bogus"}).status_code == 422


def test_unknown_repo_and_bad_credentials(github: GitHub) -> None:
    with Github(auth=Auth.Token("gh-sim-token"), base_url=github.url, retry=None) as client:
        with pytest.raises(UnknownObjectException):
            client.get_repo("acme/missing")
        assert client.get_repo("acme/app").full_name == "acme/app"
    with Github(auth=Auth.Token("wrong"), base_url=github.url, lazy=True, retry=None) as client:
        with pytest.raises(BadCredentialsException):
            client.get_repo("acme/app").create_issue("x")


def test_rate_limit_headers_count_down(gh_raw: httpx.Client) -> None:
    first = gh_raw.get("/repos/acme/app/issues").headers
    second = gh_raw.get("/repos/acme/app/issues").headers
    assert (first["x-ratelimit-limit"], first["x-ratelimit-resource"]) == ("5000", "core")
    assert int(second["x-ratelimit-remaining"]) == int(first["x-ratelimit-remaining"]) - 1
    assert int(second["x-ratelimit-used"]) == 2 and int(second["x-ratelimit-reset"]) > 0
    overview = gh_raw.get("/rate_limit").json()
    assert overview["resources"]["core"]["used"] == 2


def test_github_app_installation_auth(github: GitHub, gh_control: httpx.Client, app_private_key: str) -> None:
    app_auth = Auth.AppAuth(4242, app_private_key)
    with GithubIntegration(auth=app_auth, base_url=github.url) as integration:
        assert integration.get_repo_installation("acme", "app").id == 777
    installation = app_auth.get_installation_auth(777, token_permissions={"issues": "write"})
    with Github(auth=installation, base_url=github.url, lazy=True, retry=None,
                seconds_between_requests=None, seconds_between_writes=None) as client:  # fmt: skip
        repo = client.get_repo("acme/app")
        issue = repo.create_issue("from the app")
        repo.get_issue(issue.number).create_comment("again")
    assert issue.user.login == "freescout-bridge-sim[bot]" and issue.user.type == "Bot"
    paths = [(r["method"], r["path"]) for r in requests_made(gh_control)]
    assert paths[1:] == [
        ("POST", "/app/installations/777/access_tokens"),
        ("POST", "/repos/acme/app/issues"),
        ("POST", "/repos/acme/app/issues/1/comments"),
    ]
    token_call = requests_made(gh_control)[1]
    assert token_call["status"] == 201 and token_call["json"] == {"permissions": {"issues": "write"}}
