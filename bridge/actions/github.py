"""The three GitHub calls Direction B makes, through PyGithub 2.10, on one issue.

The client is lazy (no wasted GETs) and has PyGithub's own retries off, so no POST is ever repeated
blindly: reads are retried by ``bridge.retry`` and the one write, the sentinel comment, is retried only
after a fresh read of every comment page shows it is still missing (``actions_sync``).
Errors leave here as ``UpstreamError`` through ``bridge.github_api.translate``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException

from bridge.actions.decide import Comment, IssueState, parse_issue
from bridge.errors import TransientUpstreamError
from bridge.github_api import pygithub, translate
from bridge.github_model import IssueComment, IssueView, parse_comment, parse_issue_view

T = TypeVar("T")
API = "github"
PER_PAGE = 100
MAX_PAGES = 50  # 5,000 comments: beyond any issue support waits on


def make_actions_github(
    token: str, base_url: str, *, timeout: int = 10, write_spacing: float = 1.0
) -> Github:
    """PyGithub as docs/upstream/github.md §4 advises for a workflow script: lazy, no retries, spaced writes."""
    return pygithub(
        Auth.Token(token),
        base_url,
        timeout,
        user_agent="freescout-github-bridge-actions",
        write_spacing=write_spacing,
    )


class IssueClient:
    """One repository's issues: read an issue, read every comment, post one comment."""

    def __init__(self, gh: Github, repository: str) -> None:
        self._gh = gh
        self._repository = repository

    def _run(self, operation: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except (GithubException, requests.RequestException) as exc:
            raise translate(operation, exc) from exc

    def get_issue(self, number: int) -> IssueState:
        """Fresh state (labels, body) from ``GET …/issues/{n}``: the payload may be stale."""

        def fetch() -> IssueState:
            _, data = self._gh.requester.requestJsonAndCheck(
                "GET", f"/repos/{self._repository}/issues/{int(number)}"
            )
            try:
                return parse_issue(data if isinstance(data, dict) else {})
            except ValueError as exc:
                raise TransientUpstreamError(API, "get_issue", "unexpected_shape") from exc

        return self._run("get_issue", fetch)

    def comments(self, number: int) -> list[Comment]:
        """Every comment on the issue, following ``Link`` through every page."""

        def fetch() -> list[Comment]:
            issue = self._gh.get_repo(self._repository).get_issue(int(number))
            return [Comment(body=c.body or "", html_url=c.html_url or "") for c in issue.get_comments()]

        return self._run("list_comments", fetch)

    def issue_view(self, number: int) -> IssueView | None:
        """The issue now, for the return path; ``None`` when GitHub answers 404."""

        def fetch() -> IssueView | None:
            try:
                _, data = self._gh.requester.requestJsonAndCheck(
                    "GET", f"/repos/{self._repository}/issues/{int(number)}"
                )
            except GithubException as exc:
                if exc.status == 404:
                    return None
                raise
            try:
                return parse_issue_view(data, self._repository)
            except ValueError as exc:
                raise TransientUpstreamError(API, "get_issue", "unexpected_shape") from exc

        return self._run("get_issue", fetch)

    def issue_comments(self, number: int) -> list[IssueComment]:
        """Every comment on the issue with its id, time and author, page by page (oldest first)."""

        def fetch() -> list[IssueComment]:
            comments: list[IssueComment] = []
            path = f"/repos/{self._repository}/issues/{int(number)}/comments"
            for page in range(1, MAX_PAGES + 1):
                _, data = self._gh.requester.requestJsonAndCheck(
                    "GET", path, parameters={"per_page": PER_PAGE, "page": page}
                )
                items = data if isinstance(data, list) else []
                for item in items:
                    try:
                        comments.append(parse_comment(item))
                    except ValueError:
                        continue
                if len(items) < PER_PAGE:
                    break
            return comments

        return self._run("list_comments", fetch)

    def post_comment(self, number: int, body: str) -> str:
        """One POST, never repeated here; returns the comment's web URL."""

        def post() -> str:
            comment: Any = self._gh.get_repo(self._repository).get_issue(int(number)).create_comment(body)
            return str(comment.html_url or "")

        return self._run("create_comment", post)
