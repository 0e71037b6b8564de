"""Note commands: the syntax, every refusal with its reply, and the writes in crash-safe order."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.commands import (
    Command,
    CommandError,
    CommandPlan,
    IssueRef,
    Verb,
    decide_command,
    is_command_note,
    parse_command,
    parse_ref,
    target_number,
)
from bridge.model import Thread
from bridge.text import html_to_text
from bridge.vocab import LABEL_LINKED, UNLINKED, LinkRecord, notice_keys_in
from bridge.writes import AddLabel, AddNote, PostRecord, RefreshDemand, SetField
from tests.unit.return_path.samples import BOT, ISSUE_URL, REPO, issue, ticket

THREAD = 7001
OPEN = issue("issues.reopened")  # Codertocat/Hello-World#1, open
OTHER_URL = "https://github.com/Codertocat/Hello-World/issues/9"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme/app#412", IssueRef("acme/app", 412)),
        ("#412", IssueRef(REPO, 412)),
        ("412", IssueRef(REPO, 412)),
        ("https://github.com/acme/app/issues/412", IssueRef("acme/app", 412)),
        ("https://ghe.example.com/acme/app/issues/412/", IssueRef("acme/app", 412)),
        ("https://github.com/acme/app/issues/412#issuecomment-1", IssueRef("acme/app", 412)),
        ("<https://github.com/acme/app/issues/412>", IssueRef("acme/app", 412)),
        ("https://github.com/acme/app/pull/57", IssueRef("acme/app", 57, is_pull_request=True)),
        ("acme/app/412", None),
        ("acme/app", None),
        ("#x", None),
        ("https://github.com/acme/app/discussions/3", None),
        ("javascript:alert(1)", None),
    ],
)
def test_parse_ref(value: str, expected: IssueRef | None) -> None:
    assert parse_ref(value, REPO) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>#github link acme/app#412</p>", Command(Verb.LINK, IssueRef("acme/app", 412))),
        ("<p>Customer #2 too.</p><p>#GitHub Link #5</p>", Command(Verb.LINK, IssueRef(REPO, 5))),
        ("<div>#github relink 9<br>#github unlink</div>", Command(Verb.RELINK, IssueRef(REPO, 9))),
        ("<p>  #github unlink  </p>", Command(Verb.UNLINK, None)),
        (
            '<p>#github link <a href="https://github.com/acme/app/issues/4">https://github.com/acme/app/issues/4</a></p>',
            Command(Verb.LINK, IssueRef("acme/app", 4)),
        ),
        ("<p>#github link</p>", CommandError("missing_ref", "link")),
        ("<p>#github link acme/app</p>", CommandError("bad_ref", "acme/app")),
        ("<p>#github close 5</p>", CommandError("unknown_verb", "close")),
        ("<p>#github</p>", CommandError("unknown_verb", "#github")),
        ("<p>see #github link 5</p>", None),
        ("<p>#githubber link 5</p>", None),
        ("<p>no command</p>", None),
    ],
)
def test_parse_command(html: str, expected: Command | CommandError | None) -> None:
    assert parse_command(html, REPO) == expected


@pytest.mark.parametrize(
    ("thread", "commands"),
    [
        (Thread(1, "note", 5, "user", "", ""), True),
        (Thread(1, "note", BOT, "user", "", ""), False),
        (Thread(1, "customer", 5, "customer", "", ""), False),
        (Thread(1, "message", 5, "user", "", ""), False),
    ],
)
def test_only_an_agents_note_commands(thread: Thread, commands: bool) -> None:
    assert is_command_note(thread, BOT) is commands


def test_target_number_says_what_to_fetch() -> None:
    assert target_number(Command(Verb.LINK, IssueRef("codertocat/hello-world", 3)), REPO) == 3
    assert target_number(Command(Verb.LINK, IssueRef("acme/other", 3)), REPO) is None
    assert target_number(Command(Verb.LINK, IssueRef(REPO, 3, True)), REPO) is None
    assert target_number(Command(Verb.UNLINK, None), REPO) is None
    assert target_number(CommandError("bad_ref", "x"), REPO) is None


def decide(command: Command | CommandError, field: str = "", **kwargs: Any) -> CommandPlan:
    return decide_command(
        command, ticket=ticket(202, field=field), thread_id=THREAD, bot_user_id=BOT, repository=REPO, **kwargs
    )


def reply_text(plan: CommandPlan) -> str:
    note = (
        plan.steps[-1]
        if isinstance(plan.steps[-1], AddNote)
        else next(s for s in plan.steps if isinstance(s, AddNote))
    )
    assert isinstance(note, AddNote) and notice_keys_in(note.html) == [f"command:{THREAD}"]
    return html_to_text(note.html)


LINK_1 = Command(Verb.LINK, IssueRef(REPO, 1))


@pytest.mark.parametrize(
    ("command", "field", "target", "reason", "says"),
    [
        (Command(Verb.LINK, IssueRef("acme/other", 1)), "", None, "other_repository", "another repository"),
        (LINK_1, "", issue(state="closed"), "closed", "is closed"),
        (Command(Verb.LINK, IssueRef(REPO, 1, True)), "", None, "pull_request", "pull request"),
        (LINK_1, "", issue("issues.reopened", pull_request={"url": "x"}), "pull_request", "pull request"),
        (LINK_1, "", None, "not_found", "no issue Codertocat/Hello-World#1"),
        (LINK_1, OTHER_URL, OPEN, "linked_elsewhere", "#github relink Codertocat/Hello-World#1"),
        (LINK_1, "https://github.com/x/y/issues/3", OPEN, "linked_elsewhere", "#github unlink"),
        (CommandError("bad_ref", "acme/app"), "", None, "bad_ref", "“acme/app” is not an issue reference"),
        (CommandError("unknown_verb", "close"), "", None, "unknown_verb", "#github relink REF"),
        (CommandError("missing_ref", "link"), "", None, "missing_ref", "needs an issue"),
        (Command(Verb.RELINK, IssueRef(REPO, 1)), OTHER_URL, issue(state="closed"), "closed", "Reopen it"),
    ],
)
def test_refusals_write_one_reply_and_nothing_else(
    command: Command | CommandError, field: str, target: Any, reason: str, says: str
) -> None:
    plan = decide(command, field, target=target)
    assert (plan.reason, plan.refused, len(plan.steps)) == (reason, True, 1)
    assert says in reply_text(plan)


def test_replies_never_start_a_line_with_the_command_keyword() -> None:
    plan = decide(LINK_1, OTHER_URL, target=OPEN)
    assert not any(line.strip().lower().startswith("#github") for line in reply_text(plan).split("\n"))
    assert parse_command(plan.steps[0].html, REPO) is None  # type: ignore[union-attr]


def link_record(kind: str, number: int) -> PostRecord:
    record = LinkRecord(kind, 202, THREAD)
    verb = "now waits" if kind == "link" else "no longer waits"
    marker = f"<!-- [freescout-autolink] {kind} conversation=202 via=note:{THREAD} -->"
    return PostRecord(number, record, f"{marker}\nFreeScout ticket #1202 {verb} on this issue.")


@pytest.mark.parametrize("field", ["", UNLINKED])
def test_link_writes_record_label_field_reply_demand_in_that_order(field: str) -> None:
    plan = decide(LINK_1, field, target=OPEN)
    assert (plan.reason, plan.refused) == ("linked", False)
    assert plan.steps[:3] == (link_record("link", 1), AddLabel(1, LABEL_LINKED), SetField(202, ISSUE_URL))
    assert isinstance(plan.steps[3], AddNote) and plan.steps[4:] == (RefreshDemand(1),)
    assert "Linked to GitHub issue Codertocat/Hello-World#1" in reply_text(plan)


def test_relink_unlinks_the_old_issue_first() -> None:
    plan = decide(Command(Verb.RELINK, IssueRef(REPO, 1)), OTHER_URL, target=OPEN)
    assert plan.reason == "relinked"
    assert plan.steps[:4] == (
        link_record("unlink", 9),
        link_record("link", 1),
        AddLabel(1, LABEL_LINKED),
        SetField(202, ISSUE_URL),
    )
    assert plan.steps[5:] == (RefreshDemand(1), RefreshDemand(9))
    assert f"(was {OTHER_URL})" in reply_text(plan)


def test_relink_away_from_an_unreadable_field_has_no_old_issue_to_unlink() -> None:
    plan = decide(Command(Verb.RELINK, IssueRef(REPO, 1)), "https://github.com/x/y/issues/3", target=OPEN)
    assert plan.steps[0] == link_record("link", 1)


@pytest.mark.parametrize("verb", [Verb.LINK, Verb.RELINK])
def test_already_linked_here_is_an_idempotent_ok(verb: Verb) -> None:
    plan = decide(Command(verb, IssueRef(REPO, 1)), ISSUE_URL + "/", target=OPEN, linked_here={202})
    assert (plan.reason, plan.refused, len(plan.steps)) == ("already_linked", False, 1)
    assert "Linked to GitHub issue" in reply_text(plan)


def test_field_without_a_record_on_the_issue_is_repaired() -> None:
    plan = decide(LINK_1, ISSUE_URL, target=OPEN, linked_here={999})
    assert plan.reason == "linked" and plan.steps[0] == link_record("link", 1)


def test_unlink_records_then_writes_the_sentinel() -> None:
    plan = decide(Command(Verb.UNLINK, None), OTHER_URL)
    assert plan.steps[:2] == (link_record("unlink", 9), SetField(202, UNLINKED))
    assert plan.steps[3:] == (RefreshDemand(9),)
    assert "no longer waits" in reply_text(plan)


@pytest.mark.parametrize(
    ("field", "reason", "steps"),
    [("", "not_linked", 1), (UNLINKED, "already_unlinked", 1), ("garbage", "unlinked", 2)],
)
def test_unlink_without_an_old_issue(field: str, reason: str, steps: int) -> None:
    plan = decide(Command(Verb.UNLINK, None), field)
    assert (plan.reason, plan.refused, len(plan.steps)) == (reason, False, steps)


def test_a_ticket_already_waiting_on_a_closed_issue_is_told_it_is_linked() -> None:
    plan = decide(LINK_1, ISSUE_URL, target=issue(state="closed"), linked_here={202})
    assert (plan.reason, plan.refused) == ("already_linked", False)
    assert decide(LINK_1, ISSUE_URL, target=issue(state="closed")).reason == "closed"
