"""Fresh GitHub state for the return path, from the web process's PyGithub wrapper.

``bridge.fan_out.IssueSource`` for the web process and the sweep's catch-up pass: the issue (with the
commit that closed it, when GitHub names one) and every comment, each read in a worker thread because
PyGithub is synchronous. A call still running when its caller gives up keeps its thread, never the loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

from bridge.github_api import GitHubIssues
from bridge.github_model import IssueComment, IssueView

T = TypeVar("T")


async def _thread(fn: Callable[..., T], *args: object) -> T:
    return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)


class GitHubIssueSource:
    """``IssueSource`` over ``GitHubIssues``; the closing commit is asked only of issues closed as completed."""

    def __init__(self, github: GitHubIssues, *, closers: bool = True) -> None:
        self._github = github
        self._closers = closers

    async def issue_view(self, number: int) -> IssueView | None:
        issue = await _thread(self._github.get_issue_view, number)
        if issue is None or not self._closers or not issue.is_closed or issue.is_pull_request:
            return issue
        if issue.state_reason not in ("completed", ""):
            return issue
        closer = await _thread(self._github.closing_commit, number, issue.html_url)
        return dataclasses.replace(issue, closer=closer)

    async def issue_comments(self, number: int) -> list[IssueComment]:
        return await _thread(self._github.list_issue_comments, number)
