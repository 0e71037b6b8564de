"""The linking algorithm (``bridge.linker.Linker``) in process, against the in-memory doubles.

What the module docstring promises, made visible without a process: one issue per conversation however
often and however concurrently it is handled; the writes in the order issue, note, field; a crash between
any two of them finished by the next reconcile (in a fresh process), never duplicated; a create whose
outcome is unknown only looked for until it shows; one closing comment per closure; shadow mode reads and
writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from bridge import retry
from bridge.errors import UpstreamError
from bridge.in_doubt import REASON
from bridge.linker import Linker
from bridge.mailboxes import MailboxDirectory
from bridge.settings import BridgeConfig, load_settings
from tests.doubles import Call, Crash, FakeFreeScout, FakeGitHub
from tests.harness.processes import deployment_env

pytestmark = pytest.mark.anyio
CID = 1287
WRITES = ("create_issue", "add_thread", "set_custom_field", "create_comment")


@pytest.fixture
def calls() -> list[Call]:
    """One record of the calls to both upstreams, in order."""
    return []


@pytest.fixture
def fs(calls: list[Call]) -> FakeFreeScout:
    fake = FakeFreeScout(calls)
    fake.add_conversation(CID, tags=["bug"])
    return fake


@pytest.fixture
def gh(calls: list[Call]) -> FakeGitHub:
    return FakeGitHub(calls)


def linker(fs: FakeFreeScout, gh: FakeGitHub, *, live: bool = True, in_doubt: float = 30.0) -> Linker:
    """A linker as the web process builds one (a new one is a restarted process: nothing in memory)."""
    env = deployment_env("http://freescout.test", FLAG_FREESCOUT_GITHUB_AUTOLINK=str(live).lower())
    config = BridgeConfig(in_doubt_github_seconds=in_doubt, in_doubt_freescout_seconds=in_doubt)
    settings = load_settings(env, config=config)
    return Linker(settings, fs, gh, MailboxDirectory(fs, ()))  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def delivery_deadline() -> Iterator[None]:
    """Every call below runs inside a delivery's time budget, as in the web process (short here)."""
    with retry.deadline_in(3):
        yield


def writes(calls: list[Call]) -> list[str]:
    return [operation for _api, operation, *_ in calls if operation in WRITES]


def linked_once(fs: FakeFreeScout, gh: FakeGitHub) -> None:
    """The end state every path must reach: one issue, its URL in the field, one note naming it."""
    assert gh.issues_for(CID) == [1]
    assert fs.field(CID) == gh.url(1)
    assert len(fs.notes(CID)) == 1 and gh.url(1) in fs.notes(CID)[0]


async def test_a_tagged_conversation_gets_its_issue_then_the_note_then_the_field(
    fs: FakeFreeScout, gh: FakeGitHub, calls: list[Call]
) -> None:
    outcome = await linker(fs, gh).reconcile(CID)
    assert (outcome.decision, outcome.reason, outcome.issue_url) == ("linked", "tag:bug", gh.url(1))
    assert writes(calls) == ["create_issue", "add_thread", "set_custom_field"]
    linked_once(fs, gh)


async def test_repeated_and_concurrent_handling_files_one_issue(fs: FakeFreeScout, gh: FakeGitHub) -> None:
    """Ten copies at once (redeliveries, a sweep, duplicate webhooks), then ten more one after another."""
    bridge = linker(fs, gh)
    async with anyio.create_task_group() as tasks:
        for _ in range(10):
            tasks.start_soon(bridge.reconcile, CID)
    for _ in range(10):
        assert (await bridge.reconcile(CID)).reason == "already_linked"
    assert gh.writes() == ["create_issue"]
    linked_once(fs, gh)


@pytest.mark.parametrize(
    ("operation", "kind", "finish"),
    [
        ("create_issue", "lost", ["add_thread", "set_custom_field"]),  # the issue exists, nothing else
        ("add_thread", "refused", ["add_thread", "set_custom_field"]),
        ("add_thread", "lost", ["set_custom_field"]),  # the note exists: not posted again
        ("set_custom_field", "refused", ["set_custom_field"]),
        ("set_custom_field", "lost", []),  # everything was written: nothing left to do
    ],
    ids=["after-create", "before-note", "after-note", "before-field", "after-field"],
)
async def test_a_crash_between_writes_is_finished_by_the_next_reconcile(
    fs: FakeFreeScout, gh: FakeGitHub, calls: list[Call], operation: str, kind: str, finish: list[str]
) -> None:
    upstream = gh if operation == "create_issue" else fs
    upstream.fail(operation, kind, error=Crash())  # type: ignore[arg-type]
    with pytest.raises(Crash):
        await linker(fs, gh).reconcile(CID)
    calls.clear()
    await linker(fs, gh).reconcile(CID)  # the restarted process: a redelivery or the sweep
    assert writes(calls) == finish
    linked_once(fs, gh)


async def test_a_create_whose_outcome_is_unknown_is_looked_for_until_it_shows(
    fs: FakeFreeScout, gh: FakeGitHub
) -> None:
    """GitHub stores the issue after the client gave up: the bridge only looks, it never creates again."""
    gh.fail("create_issue", "late")
    bridge = linker(fs, gh)
    with pytest.raises(UpstreamError) as raised:
        await bridge.reconcile(CID)  # answered 503: FreeScout redelivers
    assert raised.value.reason == REASON  # in doubt: only looked for
    assert gh.writes() == ["create_issue"] and gh.issues_for(CID) == []
    with pytest.raises(UpstreamError):
        await bridge.reconcile(CID)  # a redelivery inside the window: still only a look
    gh.land_late_writes()
    await bridge.reconcile(CID)
    assert gh.writes() == ["create_issue"]
    linked_once(fs, gh)


async def test_the_closing_comment_is_posted_once_per_closure(fs: FakeFreeScout, gh: FakeGitHub) -> None:
    bridge = linker(fs, gh)
    await bridge.reconcile(CID)
    fs.close(CID)
    first = await bridge.reconcile(CID, closing=True)
    again = await bridge.reconcile(CID, closing=True)  # a redelivery of the same closure
    assert (first.reason, first.writes, again.reason) == ("closed", ["create_comment"], "already_commented")
    fs.reopen(CID)
    fs.close(CID, closed_at="2025-03-09T10:00:00Z")  # a second closure
    await bridge.reconcile(CID, closing=True)
    assert len(gh.comments_on(1)) == 2 and gh.writes() == ["create_issue", "create_comment", "create_comment"]


async def test_a_lost_closing_comment_answer_is_found_not_posted_twice(
    fs: FakeFreeScout, gh: FakeGitHub
) -> None:
    bridge = linker(fs, gh)
    await bridge.reconcile(CID)
    fs.close(CID)
    gh.fail("create_comment", "lost")
    outcome = await bridge.reconcile(CID, closing=True)
    assert outcome.reason == "already_commented"
    assert len(gh.comments_on(1)) == 1


async def test_shadow_mode_decides_and_writes_nothing(
    fs: FakeFreeScout, gh: FakeGitHub, calls: list[Call]
) -> None:
    bridge = linker(fs, gh, live=False)
    outcome = await bridge.reconcile(CID)
    fs.close(CID)
    closing = await bridge.reconcile(CID, closing=True)
    assert (outcome.decision, outcome.reason) == ("would_link", "tag:bug")
    assert closing.decision == "would_link"
    assert writes(calls) == [] and all(
        api == "freescout" and op == "get_conversation" for api, op, *_ in calls
    )
