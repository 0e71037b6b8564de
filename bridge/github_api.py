"""GitHub issues through PyGithub, in the bridge's own words (docs/upstream/github.md).

PyGithub is synchronous: these methods run in a worker thread (``anyio.to_thread``). The client is built in
lazy mode with PyGithub's own retries off, so no POST is ever repeated blindly: the linker's retry re-runs
the marker look-up before any second create. Every GitHub failure becomes a transient or permanent
``UpstreamError`` here, and every ``retry-after`` GitHub sends is recorded in the write gate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException

from bridge import retry
from bridge.errors import PermanentUpstreamError, TransientUpstreamError, UpstreamError
from bridge.github_gate import WriteGate
from bridge.github_model import Closer, IssueComment, IssueView, parse_comment, parse_issue_view
from bridge.metrics import Metrics
from bridge.settings import AppAuth, GitHubAuth, TokenAuth
from bridge.vocab import LABEL_LINKED, conversation_ids_in

API = "github"
T = TypeVar("T")
_RATE_WORDS = ("rate limit", "retry your request again later", "wait a few minutes")


@dataclass(frozen=True)
class IssueRef:
    number: int
    html_url: str
    labels: tuple[str, ...]


def make_github(auth: GitHubAuth, base_url: str, timeout: int = 5) -> Github:
    """A lazy PyGithub client: no wasted GETs, no blind retries, our own spacing (``WriteGate``)."""
    if isinstance(auth, TokenAuth):
        credentials: Auth.Auth = Auth.Token(auth.token.reveal())
    elif isinstance(auth, AppAuth):
        credentials = Auth.AppAuth(auth.app_id, auth.private_key.reveal()).get_installation_auth(
            auth.installation_id, token_permissions={"issues": "write", "metadata": "read"}
        )
    return pygithub(credentials, base_url, timeout, user_agent="freescout-github-bridge")


def pygithub(
    credentials: Auth.Auth,
    base_url: str,
    timeout: int,
    *,
    user_agent: str,
    write_spacing: float | None = None,
) -> Github:
    """PyGithub as docs/upstream/github.md §4 advises, for the web process and the Actions script alike: lazy,
    100 per page, no retries of its own; writes spaced by PyGithub only where no ``WriteGate`` does it."""
    return Github(
        auth=credentials,
        base_url=base_url,
        timeout=timeout,
        per_page=100,
        lazy=True,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=write_spacing,
        user_agent=user_agent,
    )


def _header(headers: Any, name: str) -> str:
    if not headers:
        return ""
    for key, value in dict(headers).items():
        if str(key).lower() == name:
            return str(value)
    return ""


def translate(operation: str, exc: Exception) -> UpstreamError:
    """Map PyGithub/requests failures onto the bridge's transient/permanent split (docs/upstream/github.md §3, §4)."""
    if isinstance(exc, requests.Timeout):
        return TransientUpstreamError(API, operation, "timeout")
    if isinstance(exc, requests.ConnectionError):
        return TransientUpstreamError(API, operation, "connection_error")
    if not isinstance(exc, GithubException):
        return TransientUpstreamError(API, operation, type(exc).__name__)
    status = exc.status
    headers = exc.headers
    message = str((exc.data or {}).get("message", "")) if isinstance(exc.data, dict) else ""
    retry_after_text = _header(headers, "retry-after")
    retry_after = float(retry_after_text) if retry_after_text.strip().isdigit() else None
    remaining = _header(headers, "x-ratelimit-remaining")
    if status == 429 or (
        status == 403 and (remaining == "0" or any(w in message.lower() for w in _RATE_WORDS))
    ):
        if retry_after is None and remaining == "0":
            reset = _header(headers, "x-ratelimit-reset")
            retry_after = max(1.0, float(reset) - time.time()) if reset.strip().isdigit() else 60.0
        return TransientUpstreamError(
            API, operation, "rate_limited", status=status, retry_after=retry_after or 60.0
        )
    if status >= 500:
        return TransientUpstreamError(
            API, operation, f"http_{status}", status=status, retry_after=retry_after
        )
    hints = {
        401: "GITHUB_ISSUE_BOT_TOKEN (or the GitHub App credentials) is invalid or expired",
        403: "the token lacks Issues: write on GITHUB_REPOSITORY; permission wanted: "
        + (_header(headers, "x-accepted-github-permissions") or "issues=write"),
        404: "GITHUB_REPOSITORY does not exist or the token cannot see it",
        410: "issues are disabled in GITHUB_REPOSITORY",
        422: "GitHub rejected the content; see the error details",
    }
    return PermanentUpstreamError(
        API, operation, f"http_{status}", status=status, hint=hints.get(status, message)
    )


def next_page(headers: Any) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header (docs/upstream/github.md §1), or ``None`` on the last page."""
    for part in _header(headers, "link").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel.replace(" ", ""):
            return url.strip().strip("<>")
    return None


class GitHubIssues:
    """The issue operations the bridge needs, on one repository."""

    def __init__(self, gh: Github, repository: str, gate: WriteGate, metrics: Metrics | None = None) -> None:
        self._gh = gh
        self._repository = repository
        self._gate = gate
        self._metrics = metrics

    @property
    def repository(self) -> str:
        return self._repository

    @property
    def gate(self) -> WriteGate:
        """The process's write gate (its budget is shown on ``/metrics`` and the status page)."""
        return self._gate

    def _run(self, operation: str, call: Callable[[], T], *, write: bool = False, content: bool = False) -> T:
        blocked = self._gate.blocked_for()
        left = retry.remaining()
        if not write and blocked > 0 and (left is None or blocked >= left):
            raise TransientUpstreamError(API, operation, "retry_after_window", retry_after=blocked)
        started = time.perf_counter()
        status = "ok"
        try:
            if write:
                with self._gate.write(content=content, max_wait=left):
                    return call()
            if blocked > 0:
                time.sleep(blocked)
            return call()
        except (GithubException, requests.RequestException) as exc:
            error = translate(operation, exc)
            status = str(error.status or error.reason)
            if error.retry_after:
                self._gate.back_off(error.retry_after)
            raise error from exc
        finally:
            if self._metrics is not None:
                self._metrics.upstream(API, operation, status, time.perf_counter() - started)

    def probe(self) -> dict[str, Any]:
        """``GET /repos/{owner}/{repo}``: proves the credentials and that the repository is visible."""

        def get() -> dict[str, Any]:
            _headers, data = self._gh.requester.requestJsonAndCheck("GET", f"/repos/{self._repository}")
            return dict(data or {})

        return self._run("probe", get)

    def find_linked_issue(self, conversation_id: int, since: datetime | None) -> IssueRef | None:
        """The issue whose hidden marker names this conversation, among issues labelled ``freescout-linked``.

        Uses the list endpoint (consistent) rather than search (eventually consistent), newest first,
        bounded by ``since`` (the conversation's creation: its issue cannot be older).
        """

        def look() -> IssueRef | None:
            repo = self._gh.get_repo(self._repository)
            kwargs: dict[str, Any] = {"state": "all", "labels": [LABEL_LINKED], "sort": "created"}
            if since is not None:
                kwargs["since"] = since
            for issue in repo.get_issues(**kwargs):
                # ``html_url`` is on every list item; reading ``pull_request`` would fetch each issue again.
                if "/pull/" not in issue.html_url and conversation_id in conversation_ids_in(issue.body):
                    return IssueRef(issue.number, issue.html_url, tuple(label.name for label in issue.labels))
            return None

        return self._after_writes("find_linked_issue", look)

    def _after_writes(self, operation: str, look: Callable[[], T]) -> T:
        """A look for a write's effect waits for the process's write slot: a write still in flight (a
        timed-out delivery leaves its thread running) lands before anyone looks for it
        (``bridge.in_doubt``)."""
        with self._gate.slot(retry.remaining()):
            return self._run(operation, look)

    def create_issue(self, title: str, body: str, labels: Iterable[str]) -> IssueRef:
        """One POST, never repeated here: callers go through ``bridge.in_doubt.write_once``."""

        def create() -> IssueRef:
            issue = self._gh.get_repo(self._repository).create_issue(
                title=title, body=body, labels=list(labels)
            )
            return IssueRef(issue.number, issue.html_url, tuple(label.name for label in issue.labels))

        return self._run("create_issue", create, write=True, content=True)

    def has_comment_with(self, number: int, marker: str) -> bool:
        """Whether any comment on issue ``number`` (every page) already carries ``marker``."""

        def look() -> bool:
            issue = self._gh.get_repo(self._repository).get_issue(number)
            return any(marker in (c.body or "") for c in issue.get_comments())

        return self._after_writes("list_comments", look)

    def create_comment(self, number: int, body: str) -> None:
        """One POST, never repeated here: callers go through ``bridge.in_doubt.write_once``."""

        def create() -> None:
            self._gh.get_repo(self._repository).get_issue(number).create_comment(body)

        self._run("create_comment", create, write=True, content=True)

    def closing_commit(self, number: int, html_url: str) -> Closer | None:
        """The commit named by the issue's latest ``closed`` event (``GET …/issues/{n}/events``).

        GitHub sets ``commit_id`` when a commit (or a merged pull request's commit) closed the issue; a close
        by hand has none. One call for the usual issue (under 100 events), asked only for closed issues.
        """
        path = f"/repos/{self._repository}/issues/{int(number)}/events"

        def get() -> Closer | None:
            closes = [e for e in self._pages(path) if isinstance(e, dict) and e.get("event") == "closed"]
            sha = str((closes[-1] if closes else {}).get("commit_id") or "")
            if not sha:
                return None
            return Closer("commit", f"{html_url.split('/issues/', 1)[0]}/commit/{sha}", sha[:7])

        return self._run("list_issue_events", get)

    def recently_updated(self, label: str, since: datetime) -> list[tuple[int, str]]:
        """``(number, updated_at)`` of the issues (not pull requests) labelled ``label`` updated since ``since``."""
        path = f"/repos/{self._repository}/issues"
        params = {
            "state": "all",
            "labels": label,
            "sort": "updated",
            "direction": "desc",
            "since": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

        def get() -> list[tuple[int, str]]:
            return [
                (int(i["number"]), str(i.get("updated_at") or ""))
                for i in self._pages(path, params)
                if isinstance(i, dict) and i.get("pull_request") is None and isinstance(i.get("number"), int)
            ]

        return self._run("list_issues", get)

    def list_labels(self) -> list[str]:
        """Names of every label in the repository (every page); used by ``freescout-bridge check``."""

        def names() -> list[str]:
            return [label.name for label in self._gh.get_repo(self._repository).get_labels()]

        return self._run("list_labels", names)

    def create_label(self, name: str, color: str, description: str) -> None:
        """``POST /repos/{o}/{r}/labels``: one label, through the write gate (``check --fix`` only)."""

        def create() -> None:
            self._gh.get_repo(self._repository).create_label(name, color, description)

        self._run("create_label", create, write=True)

    def oauth_scopes(self) -> tuple[str, ...] | None:
        """Scopes of a classic token, as GitHub reported them on the last call; ``None`` if it did not."""
        scopes = self._gh.oauth_scopes
        return None if scopes is None else tuple(s.strip() for s in scopes if s.strip())

    # --- the return path's reads and writes (issue #10): plain JSON, parsed by ``bridge.github_model`` ----

    def _pages(self, path: str, query: dict[str, Any] | None = None) -> list[Any]:
        """Every item of a list endpoint, following ``Link: rel="next"`` (100 a page)."""
        items: list[Any] = []
        url: str | None = path
        params: dict[str, Any] | None = {"per_page": 100, **(query or {})}
        while url:
            headers, data = self._gh.requester.requestJsonAndCheck("GET", url, parameters=params)
            items += data if isinstance(data, list) else []
            url, params = next_page(headers), None
        return items

    def get_issue_view(self, number: int) -> IssueView | None:
        """``GET /repos/{o}/{r}/issues/{n}`` as an ``IssueView`` (pull requests too: the view says so);
        ``None`` when GitHub answers 404 or 410, or the issue now lives in another repository (moved)."""

        def get() -> IssueView | None:
            path = f"/repos/{self._repository}/issues/{int(number)}"
            try:
                _headers, data = self._gh.requester.requestJsonAndCheck("GET", path)
            except GithubException as exc:
                if exc.status in (404, 410):
                    return None
                raise
            view = parse_issue_view(data, self._repository)
            return view if view.repository.lower() == self._repository.lower() else None

        return self._run("get_issue", get)

    def list_issue_comments(self, number: int, *, after_writes: bool = False) -> list[IssueComment]:
        """Every comment on the issue, oldest first (every page): the link records and the demand comment.

        ``after_writes``: the look of ``bridge.in_doubt`` for a comment this process may still be posting
        waits for the write slot first (``_after_writes``).
        """

        def get() -> list[IssueComment]:
            raw = self._pages(f"/repos/{self._repository}/issues/{int(number)}/comments")
            return sorted((parse_comment(c) for c in raw), key=lambda c: c.id)

        if after_writes:
            return self._after_writes("list_comments", get)
        return self._run("list_comments", get)

    def add_label(self, number: int, name: str) -> None:
        """``POST …/issues/{n}/labels`` with one name: idempotent (a label already there stays once)."""

        def add() -> None:
            path = f"/repos/{self._repository}/issues/{int(number)}/labels"
            self._gh.requester.requestJsonAndCheck("POST", path, input={"labels": [name]})

        self._run("add_label", add, write=True)

    def post_comment(self, number: int, body: str) -> IssueComment:
        """One POST, never repeated here: callers go through ``bridge.in_doubt.write_once``."""

        def create() -> IssueComment:
            path = f"/repos/{self._repository}/issues/{int(number)}/comments"
            _headers, data = self._gh.requester.requestJsonAndCheck("POST", path, input={"body": body})
            return parse_comment(data)

        return self._run("create_comment", create, write=True, content=True)

    def edit_comment(self, comment_id: int, body: str) -> IssueComment:
        """``PATCH …/issues/comments/{id}``: idempotent, the same body twice leaves one comment saying it."""

        def edit() -> IssueComment:
            path = f"/repos/{self._repository}/issues/comments/{int(comment_id)}"
            _headers, data = self._gh.requester.requestJsonAndCheck("PATCH", path, input={"body": body})
            return parse_comment(data)

        return self._run("edit_comment", edit, write=True)
