"""Which GitHub events reconcile which issue, one real payload and its expected outcome per line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bridge.return_path import Ignore, Reconcile, route_event
from bridge.vocab import demand_marker, link_record_marker
from tests.unit.return_path.samples import BRIDGE_LOGIN, REPO, gh

COMMENT_ID = 492700400


def comment_body(body: str) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload["comment"]["body"] = body

    return change


def by(login: str) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload["comment"]["body"] = "/support ok"
        payload["comment"]["user"]["login"] = login

    return change


def on_pull_request(payload: dict[str, Any]) -> None:
    payload["comment"]["body"] = "/support ok"
    payload["issue"]["pull_request"] = {"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"}


def action(name: str) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload["action"] = name

    return change


def repository(name: str) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload["repository"]["full_name"] = name

    return change


def no_issue(payload: dict[str, Any]) -> None:
    del payload["issue"]


def unchanged(payload: dict[str, Any]) -> None:
    pass


TABLE: list[tuple[str, str, Callable[[dict[str, Any]], None], Reconcile | str]] = [
    ("issues", "issues.closed", unchanged, Reconcile(REPO, 1, "issues.closed")),
    ("issues", "issues.reopened", unchanged, Reconcile(REPO, 1, "issues.reopened")),
    ("issues", "issues.closed", repository("codertocat/hello-world"), Reconcile(REPO, 1, "issues.closed")),
    (
        "issue_comment",
        "issue_comment.created",
        comment_body("/support The fix is in 2.4.1"),
        Reconcile(REPO, 1, "issue_comment.created", COMMENT_ID),
    ),
    ("issue_comment", "issue_comment.created", unchanged, "not_for_support"),
    ("issue_comment", "issue_comment.created", on_pull_request, "pull_request"),
    ("issue_comment", "issue_comment.created", by(BRIDGE_LOGIN), "own_comment"),
    (
        "issue_comment",
        "issue_comment.created",
        comment_body(demand_marker() + "\n/support"),
        "bridge_comment",
    ),
    (
        "issue_comment",
        "issue_comment.created",
        comment_body(link_record_marker("link", 1, 2) + "\nFreeScout ticket #1 now waits on this issue."),
        "bridge_comment",
    ),
    (
        "issue_comment",
        "issue_comment.created",
        comment_body("[freescout-autolink] FreeScout ticket: https://help.example.com/conversation/5"),
        "bridge_comment",
    ),
    ("issue_comment", "issue_comment.created", action("edited"), "action_not_handled"),
    ("issue_comment", "issue_comment.created", action("deleted"), "action_not_handled"),
    ("issues", "issues.labeled", unchanged, "action_not_handled"),
    ("issues", "issues.opened", unchanged, "action_not_handled"),
    ("issues", "issues.closed", repository("someone/else"), "other_repository"),
    ("issues", "issues.closed", no_issue, "no_issue"),
    ("ping", "ping", unchanged, "ping"),
    ("push", "issues.closed", unchanged, "event_not_handled"),
]


@pytest.mark.parametrize(
    ("event", "fixture", "change", "expected"),
    TABLE,
    ids=[f"{row[1]}-{getattr(row[2], '__qualname__', 'x').split('.')[0]}-{i}" for i, row in enumerate(TABLE)],
)
def test_route_event(
    event: str, fixture: str, change: Callable[[dict[str, Any]], None], expected: Reconcile | str
) -> None:
    payload = gh(fixture)
    change(payload)
    outcome = route_event(event, payload, repository=REPO, bridge_logins=[BRIDGE_LOGIN.upper()])
    if isinstance(expected, Reconcile):
        assert outcome == expected
    else:
        assert isinstance(outcome, Ignore) and outcome.reason == expected, outcome
