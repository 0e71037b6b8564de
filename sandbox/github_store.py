"""In-memory state of the local GitHub simulator: repositories, issues, comments, labels.

Pure: no HTTP. Validation that GitHub answers with 422 lives in the API layer; the
store only applies changes and keeps GitHub's bookkeeping (numbers, counters, times).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

Clock = Callable[[], datetime]
DEFAULT_COLORS = {
    "bug": "d73a4a",
    "enhancement": "a2eeef",
    "freescout-linked": "0e8a16",
    "customer-reported": "fbca04",
    "regression": "b60205",
    "needs-customer-confirm": "c5def5",
}
GITHUB_DEFAULT_LABELS = frozenset({"bug", "documentation", "duplicate", "enhancement", "good first issue"})


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def fmt_time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Actor:
    login: str
    id: int
    type: str = "User"  # "User" | "Bot"


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Comment:
    id: int
    issue_number: int
    body: str
    user: Actor
    created_at: datetime
    updated_at: datetime


@dataclass
class IssueEvent:
    """A ``closed`` or ``reopened`` entry of ``GET …/issues/{n}/events`` (``commit_id`` when a commit closed it)."""

    id: int
    event: str
    actor: Actor
    created_at: datetime
    commit_id: str | None = None
    state_reason: str | None = None


@dataclass
class Issue:
    id: int
    number: int
    title: str
    body: str | None
    user: Actor
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    labels: list[int] = field(default_factory=list)  # label ids, in the order applied
    assignees: list[str] = field(default_factory=list)
    closed_at: datetime | None = None
    closed_by: Actor | None = None
    locked: bool = False
    pull_request: bool = False
    comments: list[Comment] = field(default_factory=list)
    events: list[IssueEvent] = field(default_factory=list)


@dataclass
class Repo:
    id: int
    owner: Actor
    name: str
    created_at: datetime
    labels: dict[int, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def label_named(self, name: str) -> Label | None:
        wanted = name.lower()
        return next((lb for lb in self.labels.values() if lb.name.lower() == wanted), None)

    def find_comment(self, comment_id: int) -> tuple[Issue, Comment] | None:
        for issue in self.issues.values():
            for comment in issue.comments:
                if comment.id == comment_id:
                    return issue, comment
        return None


class GitHubStore:
    """All repositories; ids from counters, times from the injected clock."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.repos: dict[str, Repo] = {}
        self._next = {
            "repo": 700000001,
            "issue": 2000000001,
            "comment": 1000000001,
            "label": 5000001,
            "event": 6000000001,
            "user": 90001,
        }

    def next_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind] - 1

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def add_repo(self, full_name: str, labels: tuple[str, ...] = ()) -> Repo:
        owner, name = full_name.split("/", 1)
        repo = Repo(
            self.next_id("repo"), Actor(owner, self.next_id("user"), "Organization"), name, self.now()
        )
        self.repos[full_name.lower()] = repo
        for label in labels:
            self.ensure_label(repo, label)
        return repo

    def repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def ensure_label(
        self, repo: Repo, name: str, color: str | None = None, description: str | None = None
    ) -> Label:
        """Existing label (case-insensitive) or a new one: unknown names are auto-created."""
        found = repo.label_named(name)
        if found is not None:
            return found
        label = Label(
            self.next_id("label"),
            name,
            color or DEFAULT_COLORS.get(name.lower(), "ededed"),
            description,
            name.lower() in GITHUB_DEFAULT_LABELS,
        )
        repo.labels[label.id] = label
        return label

    def create_issue(
        self,
        repo: Repo,
        user: Actor,
        title: str,
        body: str | None,
        labels: list[str],
        assignees: list[str],
        *,
        pull_request: bool = False,
    ) -> Issue:
        now = self.now()
        issue = Issue(
            self.next_id("issue"), repo.next_number, title, body, user, now, now, pull_request=pull_request
        )
        repo.next_number += 1
        issue.labels = self._label_ids(repo, labels)
        issue.assignees = list(dict.fromkeys(assignees))
        repo.issues[issue.number] = issue
        return issue

    def set_labels(self, repo: Repo, issue: Issue, names: list[str]) -> None:
        issue.labels = self._label_ids(repo, names)
        issue.updated_at = self.now()

    def add_labels(self, repo: Repo, issue: Issue, names: list[str]) -> None:
        issue.labels = list(dict.fromkeys([*issue.labels, *self._label_ids(repo, names)]))
        issue.updated_at = self.now()

    def remove_label(self, repo: Repo, issue: Issue, name: str) -> bool:
        label = repo.label_named(name)
        if label is None or label.id not in issue.labels:
            return False
        issue.labels.remove(label.id)
        issue.updated_at = self.now()
        return True

    def set_state(
        self, issue: Issue, state: str, reason: str | None, actor: Actor, commit_id: str | None = None
    ) -> str | None:
        """Apply a state change; the webhook action it causes (``closed`` / ``reopened``), if any."""
        now = self.now()
        action = None
        if state == "closed" and issue.state != "closed":
            issue.closed_at, issue.closed_by = now, actor
            issue.state_reason = reason or "completed"
            action = "closed"
        elif state == "open" and issue.state != "open":
            issue.closed_at, issue.closed_by = None, None
            issue.state_reason = "reopened"
            action = "reopened"
        elif reason is not None:
            issue.state_reason = reason
        issue.state = state
        issue.updated_at = now
        if action is not None:
            event = IssueEvent(self.next_id("event"), action, actor, now, commit_id, issue.state_reason)
            issue.events.append(event)
        return action

    def add_comment(self, issue: Issue, user: Actor, body: str) -> Comment:
        now = self.now()
        comment = Comment(self.next_id("comment"), issue.number, body, user, now, now)
        issue.comments.append(comment)
        issue.updated_at = now
        return comment

    def _label_ids(self, repo: Repo, names: list[str]) -> list[int]:
        return list(dict.fromkeys(self.ensure_label(repo, n).id for n in names))
