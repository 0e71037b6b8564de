"""What each linked ticket gets: lifecycle notices keyed by closed_at, /support comments, status policy."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bridge.github_model import Closer, IssueComment, IssueView
from bridge.links import LinkedTicket, LinkSource
from bridge.model import Conversation
from bridge.return_path import Skip, plan_ticket, support_comments
from bridge.settings import ReturnPathConfig, StatusPolicy
from bridge.vocab import UNLINKED, closed_notice_key, comment_notice_key, notice_keys_in, reopened_notice_key
from bridge.writes import AddNote, SetStatus, TicketWrite
from tests.unit.return_path.samples import (
    BOT,
    BRIDGE_LOGIN,
    ISSUE_URL,
    REPO,
    comment,
    issue,
    note_thread,
    ticket,
)

CLOSED_AT = "2021-10-11T16:40:56Z"
CLOSED_KEY = closed_notice_key(REPO, 1, CLOSED_AT)
REOPENED_KEY = reopened_notice_key(REPO, 1, CLOSED_AT)
OPENER = LinkedTicket(101, "2021-07-05T18:05:24Z", LinkSource.OPENER)
CONFIG = ReturnPathConfig()


def plan(
    the_issue: IssueView,
    the_ticket: Conversation,
    comments: list[IssueComment] | None = None,
    *,
    link: LinkedTicket = OPENER,
    config: ReturnPathConfig = CONFIG,
) -> list[TicketWrite] | Skip:
    return plan_ticket(the_issue, comments or [], link, the_ticket, config, BOT, bridge_logins=[BRIDGE_LOGIN])


def shape(result: list[TicketWrite] | Skip) -> list[Any] | str:
    if isinstance(result, Skip):
        return result.reason
    return [(w.status if isinstance(w, SetStatus) else w.key) for w in result]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", ["active", CLOSED_KEY]),
        ("active", [CLOSED_KEY]),
        ("closed", [CLOSED_KEY]),
    ],
)
def test_completed_close_notes_every_ticket_and_activates_only_pending_ones(
    status: str, expected: list[str]
) -> None:
    result = plan(issue(), ticket(status=status))
    assert shape(result) == expected
    assert isinstance(result, list)
    assert result[0] == SetStatus(101, "active", BOT) or status != "pending"


@pytest.mark.parametrize(
    ("reason", "config", "expected"),
    [
        ("not_planned", CONFIG, [CLOSED_KEY]),
        ("duplicate", CONFIG, [CLOSED_KEY]),
        ("", CONFIG, ["active", CLOSED_KEY]),
        ("completed", replace(CONFIG, on_completed=StatusPolicy.NOTE), [CLOSED_KEY]),
        ("completed", replace(CONFIG, on_completed=StatusPolicy.NOTHING), "up_to_date"),
        (
            "not_planned",
            replace(CONFIG, on_not_planned=StatusPolicy.NOTE_AND_ACTIVATE),
            ["active", CLOSED_KEY],
        ),
        ("duplicate", replace(CONFIG, on_duplicate=StatusPolicy.NOTHING), "up_to_date"),
    ],
)
def test_status_policy_per_close_reason(reason: str, config: ReturnPathConfig, expected: Any) -> None:
    assert shape(plan(issue(state_reason=reason or None), ticket(), config=config)) == expected


@pytest.mark.parametrize(
    ("the_ticket", "reason"),
    [
        (ticket(state="deleted"), "deleted"),
        (ticket(status="spam"), "spam"),
        (ticket(field=UNLINKED), "unlinked"),
        (ticket(field=""), "field_empty"),
        (ticket(field="https://github.com/Codertocat/Hello-World/issues/2"), "linked_elsewhere"),
        (ticket(field="https://github.com/other/repo/issues/1"), "linked_elsewhere"),
        (ticket(threads=[note_thread(5, CLOSED_KEY)]), "up_to_date"),
    ],
)
def test_tickets_that_get_nothing_say_why(the_ticket: Conversation, reason: str) -> None:
    assert shape(plan(issue(), the_ticket)) == reason


def test_field_matches_whatever_its_case_and_trailing_slash() -> None:
    assert shape(plan(issue(), ticket(field=ISSUE_URL.upper() + "/"))) == ["active", CLOSED_KEY]


def test_pull_requests_get_nothing() -> None:
    assert shape(plan(issue(pull_request={"url": "x"}), ticket())) == "pull_request"


def test_a_ticket_linked_after_the_close_is_not_told_of_it() -> None:
    later = LinkedTicket(101, "2021-10-12T00:00:00Z", LinkSource.RECORD, 50)
    assert shape(plan(issue(), ticket(), link=later)) == "up_to_date"


def test_a_new_closure_is_a_new_notice() -> None:
    old = note_thread(5, closed_notice_key(REPO, 1, "2021-07-05T18:07:10Z"))
    reopened = note_thread(6, reopened_notice_key(REPO, 1, "2021-07-05T18:07:10Z"))
    assert shape(plan(issue(), ticket(status="active", threads=[old, reopened]))) == [CLOSED_KEY]


def test_reopen_is_noticed_only_after_a_noticed_close() -> None:
    reopened = issue("issues.reopened")
    assert shape(plan(reopened, ticket())) == "up_to_date"
    told = ticket(threads=[note_thread(5, CLOSED_KEY)])
    assert shape(plan(reopened, told)) == [REOPENED_KEY]
    both = ticket(threads=[note_thread(5, CLOSED_KEY), note_thread(6, REOPENED_KEY)])
    assert shape(plan(reopened, both)) == "up_to_date"


def test_reopen_answers_the_newest_close_only() -> None:
    t1, t2 = "2021-07-05T18:07:10Z", CLOSED_AT
    threads = [
        note_thread(5, closed_notice_key(REPO, 1, t1)),
        note_thread(6, reopened_notice_key(REPO, 1, t1)),
        note_thread(7, closed_notice_key(REPO, 1, t2)),
        note_thread(8, closed_notice_key("other/repo", 1, "2022-01-01T00:00:00Z")),
    ]
    assert shape(plan(issue("issues.reopened"), ticket(threads=threads))) == [REOPENED_KEY]


def test_reopen_policy_can_activate() -> None:
    config = replace(CONFIG, on_reopened=StatusPolicy.NOTE_AND_ACTIVATE)
    told = ticket(threads=[note_thread(5, CLOSED_KEY)])
    assert shape(plan(issue("issues.reopened"), told, config=config)) == ["active", REOPENED_KEY]


SUPPORT = [
    comment(11, "/support The fix ships in 2.4.1"),
    comment(12, "just engineers talking"),
    comment(13, "/support from the bridge itself", login=BRIDGE_LOGIN),
    comment(14, "/support\n<b>Workaround</b>: restart"),
]


def test_support_comments_each_become_one_note_in_order() -> None:
    result = plan(issue("issues.reopened"), ticket(), SUPPORT)
    assert shape(result) == [comment_notice_key(REPO, 1, 11), comment_notice_key(REPO, 1, 14)]
    assert [m for _, m in support_comments(SUPPORT, [BRIDGE_LOGIN])][1] == "<b>Workaround</b>: restart"


def test_support_comments_before_the_link_are_not_replayed() -> None:
    late = LinkedTicket(101, "2021-10-12T00:00:00Z", LinkSource.RECORD, 12)
    assert shape(plan(issue("issues.reopened"), ticket(), SUPPORT, link=late)) == [
        comment_notice_key(REPO, 1, 14)
    ]


def test_close_comes_before_comment_notes_and_status_before_both() -> None:
    assert shape(plan(issue(), ticket(), SUPPORT[:1])) == [
        "active",
        CLOSED_KEY,
        comment_notice_key(REPO, 1, 11),
    ]


def apply(the_ticket: Conversation, writes: list[TicketWrite] | Skip) -> Conversation:
    """What FreeScout holds after the shell carried the writes out."""
    assert isinstance(writes, list)
    threads = [
        {"id": t.id, "type": t.type, "body": t.body, "createdBy": {"id": BOT}} for t in the_ticket.threads
    ]
    status = the_ticket.status
    for write in writes:
        if isinstance(write, SetStatus):
            status = write.status
        else:
            assert isinstance(write, AddNote) and notice_keys_in(write.html) == [write.key]
            threads.append(
                {"id": 1000 + len(threads), "type": "note", "body": write.html, "createdBy": {"id": BOT}}
            )
    return ticket(status=status, threads=threads)


def test_every_event_yields_exactly_one_note_however_often_it_is_reconciled() -> None:
    closed = replace(
        issue(), closer=Closer("pull_request", "https://github.com/Codertocat/Hello-World/pull/2", "#2")
    )
    state = ticket()
    notes = 0
    for the_issue, comments in [
        (closed, []),
        (closed, SUPPORT),
        (closed, SUPPORT),
        (issue("issues.reopened"), SUPPORT),
    ]:
        for _ in range(3):  # redeliveries, the Actions run and the catch-up pass
            writes = plan(the_issue, state, comments)
            if isinstance(writes, list):
                notes += sum(isinstance(w, AddNote) for w in writes)
                state = apply(state, writes)
    assert notes == 4  # closed, two /support comments, reopened
    assert state.status == "active"
