"""Direction B's flows (``bridge.actions.flows``) in process, against the in-memory doubles.

What the module docstring promises, made visible without a process: a ticket label files exactly one
ticket, tags it and comments the sentinel once, in that order; a crash between any two writes is finished
by the re-run; a lost answer is looked for, not repeated; the confirmation note is posted once; shadow
mode reads and writes nothing. (``test_sync_subprocess.py`` runs the same script end to end.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge import retry
from bridge.actions.config import load_actions_config
from bridge.actions.decide import LabelEvent, route
from bridge.actions.flows import Context, file_ticket, request_confirm
from bridge.actions.freescout import Desk
from bridge.actions.render import Report
from bridge.errors import UpstreamError
from bridge.in_doubt import REASON
from tests.actions.payloads import ISSUE_URL, REPOSITORY, labeled
from tests.doubles import Call, Crash, FakeFreeScout, FakeGitHub
from tests.harness.processes import workflow_env

pytestmark = pytest.mark.anyio
WRITES = ("create_conversation", "set_tags", "post_comment", "add_thread")
TICKET = 2001  # the first conversation the FreeScout double creates
CONFIRM = "needs-customer-confirm"


@pytest.fixture
def calls() -> list[Call]:
    return []


@pytest.fixture
def fs(calls: list[Call]) -> FakeFreeScout:
    return FakeFreeScout(calls)


@pytest.fixture
def gh(calls: list[Call]) -> FakeGitHub:
    fake = FakeGitHub(calls, repository=REPOSITORY)
    fake.add_issue(labels=["customer-reported"])  # issue #1, as in the octokit payloads
    return fake


@pytest.fixture(autouse=True)
def job_deadline() -> Iterator[None]:
    with retry.deadline_in(10):
        yield


async def run(
    fs: FakeFreeScout, gh: FakeGitHub, label: str = "customer-reported", *, live: bool = True
) -> Report:
    """One workflow run on ``issues: labeled`` with ``label``, as ``freescout-sync`` wires it."""
    labels = [name for name in gh.issues[1].labels]
    event = route("issues", labeled(label, labels=labels))
    assert isinstance(event, LabelEvent)
    env = workflow_env(
        "http://freescout.test",
        "http://github.test",
        FLAG_FREESCOUT_GITHUB_AUTOLINK=str(live).lower(),
        FREESCOUT_IN_DOUBT_SECONDS="2",  # the doubles answer at once: seconds of patience, not minutes
        GITHUB_IN_DOUBT_SECONDS="2",
        FREESCOUT_TIMEOUT_SECONDS="1",  # the window must outlast a request's own timeout
        GITHUB_TIMEOUT_SECONDS="1",
    )
    cfg = load_actions_config(env, need_ticket=True, payload_repository=REPOSITORY)
    report = Report(live=live)
    flow = request_confirm if label == CONFIRM else file_ticket
    await flow(Context(cfg, event, gh, Desk(fs, cfg), report))  # type: ignore[arg-type]
    return report


def writes(calls: list[Call]) -> list[str]:
    return [operation for _api, operation, *_ in calls if operation in WRITES]


def filed_once(fs: FakeFreeScout, gh: FakeGitHub) -> None:
    """The end state every ticket run must reach: one ticket linked to the issue, tagged, one sentinel."""
    assert list(fs.conversations) == [TICKET] and fs.field(TICKET) == ISSUE_URL
    tags = [t["name"] for t in fs.conversations[TICKET]["_embedded"]["tags"]]
    assert tags == ["_from_github", "customer-reported"]
    (sentinel,) = gh.comments_on(1)
    assert sentinel == f"[freescout-autolink] FreeScout ticket: http://freescout.test/conversation/{TICKET}"


async def test_a_ticket_label_files_one_ticket_then_tags_it_then_comments(
    fs: FakeFreeScout, gh: FakeGitHub, calls: list[Call]
) -> None:
    report = await run(fs, gh)
    assert report.outcome == "created"
    assert writes(calls) == ["create_conversation", "set_tags", "post_comment"]
    filed_once(fs, gh)


async def test_reruns_after_a_finished_run_write_nothing(
    fs: FakeFreeScout, gh: FakeGitHub, calls: list[Call]
) -> None:
    await run(fs, gh)
    calls.clear()
    for _ in range(3):
        assert (await run(fs, gh)).outcome == "skipped"
    assert writes(calls) == []
    filed_once(fs, gh)


@pytest.mark.parametrize(
    ("operation", "kind", "finish"),
    [
        ("create_conversation", "lost", ["set_tags", "post_comment"]),  # the ticket exists, untagged
        ("set_tags", "refused", ["set_tags", "post_comment"]),
        ("set_tags", "lost", ["set_tags", "post_comment"]),  # tags again: a replace is idempotent
        ("post_comment", "refused", ["set_tags", "post_comment"]),
        ("post_comment", "lost", []),  # the sentinel is there: the re-run skips
    ],
    ids=["after-create", "before-tags", "after-tags", "before-comment", "after-comment"],
)
async def test_a_crash_between_writes_is_finished_by_the_rerun(
    fs: FakeFreeScout, gh: FakeGitHub, calls: list[Call], operation: str, kind: str, finish: list[str]
) -> None:
    upstream = gh if operation == "post_comment" else fs
    upstream.fail(operation, kind, error=Crash())  # type: ignore[arg-type]
    with pytest.raises(Crash):
        await run(fs, gh)
    calls.clear()
    await run(fs, gh)  # "Re-run failed jobs"
    assert writes(calls) == finish
    filed_once(fs, gh)


@pytest.mark.parametrize("operation", ["create_conversation", "post_comment"])
async def test_a_lost_answer_is_looked_for_not_repeated(
    fs: FakeFreeScout, gh: FakeGitHub, operation: str
) -> None:
    (gh if operation == "post_comment" else fs).fail(operation, "lost")
    report = await run(fs, gh)
    assert report.outcome in ("created", "finished")
    filed_once(fs, gh)


async def test_a_create_that_freescout_stores_late_files_one_ticket(
    fs: FakeFreeScout, gh: FakeGitHub, calls: list[Call]
) -> None:
    """PHP stores the ticket after the client gave up (issue #12): the run looks until it shows, never
    creating again, and finishes the ticket it finds."""
    fs.fail("create_conversation", "late", lands_after=10)  # visible from the second look-up pass on
    report = await run(fs, gh)
    assert report.outcome == "created"
    assert writes(calls) == ["create_conversation", "set_tags", "post_comment"]
    filed_once(fs, gh)


async def test_a_create_that_never_shows_fails_the_step_and_the_rerun_finishes(
    fs: FakeFreeScout, gh: FakeGitHub, calls: list[Call]
) -> None:
    """Still unsure after the whole window: the step fails (a re-run finishes the job), no second create."""
    fs.fail("create_conversation", "late")
    with pytest.raises(UpstreamError) as raised:
        await run(fs, gh)
    assert raised.value.reason == REASON and writes(calls) == ["create_conversation"]
    fs.land_late_writes()  # FreeScout finished it after all
    await run(fs, gh)  # "Re-run failed jobs"
    assert writes(calls) == ["create_conversation", "set_tags", "post_comment"]
    filed_once(fs, gh)


async def test_the_confirmation_note_is_posted_once(
    fs: FakeFreeScout, gh: FakeGitHub, calls: list[Call]
) -> None:
    await run(fs, gh)
    gh.issues[1].labels.append(CONFIRM)
    calls.clear()
    fs.fail("add_thread", "lost")  # its answer is lost: the threads are read again, not posted again
    assert (await run(fs, gh, CONFIRM)).outcome == "noted"
    assert (await run(fs, gh, CONFIRM)).outcome == "skipped"
    assert writes(calls) == ["add_thread"]
    (note,) = fs.notes(TICKET)[:1]
    assert "Customer confirmation requested" in note and ISSUE_URL in note


async def test_shadow_mode_reads_and_writes_nothing(
    fs: FakeFreeScout, gh: FakeGitHub, calls: list[Call]
) -> None:
    report = await run(fs, gh, live=False)
    assert report.outcome == "would_create" and report.writes
    assert writes(calls) == [] and fs.conversations == {} and gh.comments_on(1) == []
