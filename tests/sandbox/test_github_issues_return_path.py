"""The return path's GitHub calls (``GitHubIssues``: issue view, comments, label, comment create and edit)
against the simulator, every request and answer checked against GitHub's REST description."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from github import Github

from bridge.errors import PermanentUpstreamError
from bridge.github_api import GitHubIssues, next_page
from bridge.github_gate import WriteGate
from sandbox.serve import ServerThread
from tests.sandbox import openapi_check


@pytest.fixture
def issues(gh: Github, github: ServerThread, gh_control: httpx.Client) -> Iterator[GitHubIssues]:
    yield GitHubIssues(gh, "acme/app", WriteGate(spacing=0.0, per_minute=1000, per_hour=10000))
    traffic = gh_control.get("/_sim/requests").json()["requests"]
    problems = openapi_check.traffic_errors(traffic)
    assert not problems, "\n".join(problems)


def seed(control: httpx.Client, **spec: object) -> int:
    response = control.post("/_sim/issues", json={"title": "Export fails", **spec})
    response.raise_for_status()
    return int(response.json()["number"])


def test_an_open_issue_is_read_as_a_view(issues: GitHubIssues, gh_control: httpx.Client) -> None:
    number = seed(gh_control, body="<!-- [freescout-autolink] conversation=7 -->", labels=["bug"])
    view = issues.get_issue_view(number)
    assert view is not None
    assert (view.repository, view.number, view.state, view.is_pull_request) == (
        "acme/app",
        number,
        "open",
        False,
    )
    assert view.html_url == f"https://github.com/acme/app/issues/{number}"
    assert view.labels == ("bug",) and "conversation=7" in view.body and view.created_at.endswith("Z")


@pytest.mark.parametrize("reason", ["completed", "not_planned", "duplicate"])
def test_a_closed_issue_says_why(issues: GitHubIssues, gh_control: httpx.Client, reason: str) -> None:
    number = seed(gh_control, state="closed", state_reason=reason)
    view = issues.get_issue_view(number)
    assert view is not None and view.is_closed and view.state_reason == reason and view.closed_at


def test_a_pull_request_is_read_as_one(issues: GitHubIssues, gh_control: httpx.Client) -> None:
    number = seed(gh_control, pull_request=True)
    view = issues.get_issue_view(number)
    assert view is not None and view.is_pull_request


def test_a_missing_issue_is_none_not_an_error(issues: GitHubIssues) -> None:
    assert issues.get_issue_view(4242) is None


def test_comments_are_read_over_every_page_oldest_first(
    issues: GitHubIssues, gh_control: httpx.Client
) -> None:
    number = seed(gh_control, comments=[f"comment {k}" for k in range(230)])
    comments = issues.list_issue_comments(number)
    assert [c.body for c in comments] == [f"comment {k}" for k in range(230)]
    assert comments[0].author_login == "octocat" and comments[0].created_at.endswith("Z")
    pages = [
        r for r in gh_control.get("/_sim/requests").json()["requests"] if r["path"].endswith("/comments")
    ]
    assert len(pages) == 3


def test_comment_is_created_then_edited_in_place(issues: GitHubIssues, gh_control: httpx.Client) -> None:
    number = seed(gh_control)
    created = issues.post_comment(number, "2 FreeScout tickets wait")
    edited = issues.edit_comment(created.id, "3 FreeScout tickets wait")
    assert (edited.id, edited.body, edited.author_login) == (
        created.id,
        "3 FreeScout tickets wait",
        "bridge-bot",
    )
    assert [c.body for c in issues.list_issue_comments(number)] == ["3 FreeScout tickets wait"]
    assert issues.list_issue_comments(number, after_writes=True) == issues.list_issue_comments(number)


def test_adding_a_label_twice_leaves_it_once(issues: GitHubIssues, gh_control: httpx.Client) -> None:
    number = seed(gh_control, labels=["bug"])
    issues.add_label(number, "customer-demand")
    issues.add_label(number, "customer-demand")
    view = issues.get_issue_view(number)
    assert view is not None and view.labels == ("bug", "customer-demand")


def test_editing_a_deleted_comment_is_a_permanent_error(issues: GitHubIssues) -> None:
    with pytest.raises(PermanentUpstreamError) as caught:
        issues.edit_comment(999, "x")
    assert caught.value.status == 404


def test_next_page_reads_the_link_header() -> None:
    header = '<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"'
    assert next_page({"Link": header}) == "https://api.github.com/x?page=2"
    assert next_page({"link": '<https://api.github.com/x?page=1>; rel="prev"'}) is None
    assert next_page({}) is None
