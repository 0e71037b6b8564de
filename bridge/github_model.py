"""Typed views of GitHub's issue and comment objects, as sent in webhooks and returned by the REST API.

The return path reconciles from fresh state, so the same view is built from a webhook payload (to know
which issue) and from ``GET /issues/{n}`` and every page of its comments (to decide). Forgiving about
absent keys, strict about types: anything that is not an issue raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Closer:
    """What closed the issue, when the shell could tell: a commit or a pull request."""

    kind: str  # "commit" | "pull_request"
    url: str
    label: str  # short sha, or "#N"


@dataclass(frozen=True)
class IssueView:
    """One issue of ``repository`` (``owner/repo``), fresh from GitHub."""

    repository: str
    number: int
    html_url: str
    title: str
    body: str
    state: str  # "open" | "closed"
    state_reason: str  # "completed" | "not_planned" | "duplicate" | "reopened" | "" (unknown)
    closed_at: str
    closed_by: str  # login, "" when GitHub does not say
    created_at: str
    is_pull_request: bool
    labels: tuple[str, ...] = ()
    closer: Closer | None = None

    @property
    def is_closed(self) -> bool:
        return self.state == "closed"

    @property
    def ref(self) -> str:
        """``acme/app#412``, as people write it."""
        return f"{self.repository}#{self.number}"


@dataclass(frozen=True)
class IssueComment:
    """One comment on an issue; ``author_type`` is GitHub's ``User`` or ``Bot``."""

    id: int
    body: str
    html_url: str
    created_at: str
    author_login: str
    author_type: str = "User"
    #: GitHub's ``author_association``: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE, … ("" if absent).
    author_association: str = ""

    @property
    def from_team(self) -> bool:
        """Written by someone with a role on the repository (or GitHub did not say): only they speak to
        support, so a stranger's comment on a public issue never lands in FreeScout."""
        return self.author_association in ("", "OWNER", "MEMBER", "COLLABORATOR")


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _int(data: Mapping[str, Any], key: str, what: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}.{key} must be an integer")
    return value


def _obj(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def repository_of(issue: Mapping[str, Any], fallback: str = "") -> str:
    """``owner/repo`` from an issue's ``repository_url`` (…/repos/OWNER/REPO), else ``fallback``."""
    parts = _str(issue, "repository_url").rstrip("/").split("/")
    if len(parts) >= 3 and parts[-3] == "repos" and parts[-2] and parts[-1]:
        return f"{parts[-2]}/{parts[-1]}"
    return fallback


def parse_issue_view(data: Any, repository: str = "", closer: Closer | None = None) -> IssueView:
    """An issue object (payload ``issue`` or REST); ``repository`` is used when the object does not say."""
    if not isinstance(data, Mapping):
        raise ValueError("issue must be a JSON object")
    labels = data.get("labels")
    names = tuple(
        str(label["name"])
        for label in (labels if isinstance(labels, list) else [])
        if isinstance(label, Mapping) and isinstance(label.get("name"), str)
    )
    return IssueView(
        repository=repository_of(data, repository),
        number=_int(data, "number", "issue"),
        html_url=_str(data, "html_url"),
        title=_str(data, "title"),
        body=_str(data, "body"),
        state=_str(data, "state"),
        state_reason=_str(data, "state_reason"),
        closed_at=_str(data, "closed_at"),
        closed_by=_str(_obj(data, "closed_by"), "login"),
        created_at=_str(data, "created_at"),
        is_pull_request=data.get("pull_request") is not None,
        labels=names,
        closer=closer,
    )


def parse_comment(data: Any) -> IssueComment:
    """A comment object (payload ``comment`` or one item of the list-comments answer)."""
    if not isinstance(data, Mapping):
        raise ValueError("comment must be a JSON object")
    user = _obj(data, "user")
    return IssueComment(
        id=_int(data, "id", "comment"),
        body=_str(data, "body"),
        html_url=_str(data, "html_url"),
        created_at=_str(data, "created_at"),
        author_login=_str(user, "login"),
        author_type=_str(user, "type") or "User",
        author_association=_str(data, "author_association").upper(),
    )
