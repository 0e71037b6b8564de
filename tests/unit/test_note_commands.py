"""Note commands through the Linker, fast: the FreeScout simulator on loopback in a thread, and a small
recording double for ``GitHubIssues`` (bedevere's FakeGH). What each command writes, in which order,
and that running it again writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from bridge import retry
from bridge.errors import TransientUpstreamError
from bridge.freescout_api import FreeScoutAPI, make_client
from bridge.github_model import IssueComment, IssueView
from bridge.linker import Linker
from bridge.locks import KeyedLocks
from bridge.mailboxes import MailboxDirectory
from bridge.model import Conversation, parse_conversation
from bridge.outcome import Outcome
from bridge.settings import Settings, load_settings
from sandbox.freescout_sim import create_app as freescout_app
from sandbox.freescout_state import FreeScoutSimConfig
from sandbox.serve import ServerThread

pytestmark = pytest.mark.anyio
REPO = "acme/app"
BOT = 9
AGENT = 3
FS = FreeScoutSimConfig()


@dataclass
class FakeIssue:
    number: int
    body: str = ""
    state: str = "open"
    pull_request: bool = False
    labels: list[str] = field(default_factory=list)
    comments: list[IssueComment] = field(default_factory=list)

    def view(self) -> IssueView:
        kind = "pull" if self.pull_request else "issues"
        return IssueView(
            repository=REPO,
            number=self.number,
            html_url=f"https://github.com/{REPO}/{kind}/{self.number}",
            title=f"Issue {self.number}",
            body=self.body,
            state=self.state,
            state_reason="completed" if self.state == "closed" else "",
            closed_at="2026-01-02T00:00:00Z" if self.state == "closed" else "",
            closed_by="",
            created_at="2026-01-01T00:00:00Z",
            is_pull_request=self.pull_request,
            labels=tuple(self.labels),
        )


@dataclass
class FakeGitHub:
    """The ``GitHubIssues`` calls the return path makes, on a dict of issues; every call is recorded."""

    issues: dict[int, FakeIssue] = field(default_factory=dict)
    calls: list[tuple[str, int]] = field(default_factory=list)
    fail_next_post: bool = False
    late: list[tuple[int, IssueComment]] = field(default_factory=list)
    repository: str = REPO
    _next_comment: int = 1000

    def get_issue_view(self, number: int) -> IssueView | None:
        self.calls.append(("get_issue", number))
        found = self.issues.get(number)
        return found.view() if found else None

    def list_issue_comments(self, number: int, *, after_writes: bool = False) -> list[IssueComment]:
        self.calls.append(("list_comments_after_writes" if after_writes else "list_comments", number))
        return list(self.issues[number].comments)

    def add_label(self, number: int, name: str) -> None:
        self.calls.append(("add_label", number))
        if name not in self.issues[number].labels:
            self.issues[number].labels.append(name)

    def post_comment(self, number: int, body: str) -> IssueComment:
        self.calls.append(("post_comment", number))
        self._next_comment += 1
        comment = IssueComment(self._next_comment, body, "", "2026-01-03T00:00:00Z", "bridge-bot")
        if self.fail_next_post:  # the answer is lost; the comment lands later (``land``)
            self.fail_next_post = False
            self.late.append((number, comment))
            raise TransientUpstreamError("github", "create_comment", "timeout")
        self.issues[number].comments.append(comment)
        return comment

    def land(self) -> None:
        for number, comment in self.late:
            self.issues[number].comments.append(comment)
        self.late.clear()

    def edit_comment(self, comment_id: int, body: str) -> IssueComment:
        self.calls.append(("edit_comment", comment_id))
        for issue in self.issues.values():
            for k, comment in enumerate(issue.comments):
                if comment.id == comment_id:
                    issue.comments[k] = replace(comment, body=body)
                    return issue.comments[k]
        raise AssertionError("no such comment")

    def writes(self) -> list[tuple[str, int]]:
        return [c for c in self.calls if c[0] in ("add_label", "post_comment", "edit_comment")]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def freescout() -> Iterator[ServerThread]:
    with ServerThread(freescout_app(FreeScoutSimConfig())) as server:
        yield server


@pytest.fixture
def control(freescout: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=freescout.url, timeout=15) as client:
        yield client


def settings_for(url: str, flag: str = "true") -> Settings:
    return load_settings(
        {
            "FREESCOUT_URL": url,
            "FREESCOUT_API_KEY": FS.api_key,
            "FREESCOUT_WEBHOOK_SECRET": FS.webhook_secret,
            "FREESCOUT_BOT_USER_ID": str(BOT),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_ISSUE_BOT_TOKEN": "t",
            "FLAG_FREESCOUT_GITHUB_AUTOLINK": flag,
        }
    )


@dataclass
class World:
    linker: Linker
    gh: FakeGitHub
    control: httpx.Client
    client: httpx.AsyncClient

    def ticket(self, email: str = "dana@example.com", tags: list[str] | None = None) -> int:
        spec = {"mailboxId": 2, "subject": "Export fails", "body": "<p>Export fails.</p>"}
        spec |= {"customerEmail": email, "customerFirstName": "Dana", "tags": tags or []}
        return int(self.control.post("/_sim/conversations", json=spec).json()["id"])

    def note(self, cid: int, text: str, user: int = AGENT) -> Conversation:
        """Post a note as an agent; the webhook body FreeScout would send for it (newest thread first)."""
        response = self.control.post(
            f"/_sim/conversations/{cid}/agent-note", json={"body": text, "userId": user}
        )
        response.raise_for_status()
        return self.snapshot(cid)

    def snapshot(self, cid: int) -> Conversation:
        return parse_conversation(self.conversation(cid), newest_thread_only=True)

    def conversation(self, cid: int) -> dict[str, Any]:
        state = self.control.get("/_sim/state").json()["conversations"]
        return dict(next(c for c in state if c["id"] == cid))

    def field(self, cid: int) -> str:
        return next(
            f["value"] or ""
            for f in self.conversation(cid)["customFields"]
            if f["name"] == "github_issue_url"
        )

    def bot_notes(self, cid: int) -> list[str]:
        threads = self.conversation(cid)["_embedded"]["threads"]
        return [
            t["body"] for t in threads if t["type"] == "note" and (t.get("createdBy") or {}).get("id") == BOT
        ]

    async def deliver(self, snapshot: Conversation, event: str = "convo.note.created") -> Outcome:
        """As the app runs a delivery: inside the delivery's deadline."""
        with retry.deadline_in(8):
            return await self.linker.handle(event, snapshot)


@pytest.fixture
async def world(freescout: ServerThread, control: httpx.Client) -> AsyncIterator[World]:
    world = await make_world(freescout, control)
    yield world
    await world.client.aclose()


async def make_world(freescout: ServerThread, control: httpx.Client, flag: str = "true") -> World:
    settings = settings_for(freescout.url, flag)
    client = make_client(freescout.url, FS.api_key)
    api = FreeScoutAPI(client)
    gh = FakeGitHub({412: FakeIssue(412)})
    linker = Linker(settings, api, gh, MailboxDirectory(api, settings.config.mailboxes), KeyedLocks())  # type: ignore[arg-type]
    return World(linker, gh, control, client)


async def test_link_writes_record_label_field_reply_in_order_then_nothing_on_redelivery(world: World) -> None:
    cid = world.ticket()
    note = world.note(cid, "<p>#github link acme/app#412</p>")
    outcome = await world.deliver(note)
    assert (outcome.decision, outcome.reason) == ("command", "linked")
    assert outcome.writes == ["link_record:412", "add_label:412", "set_custom_field", "add_note"]
    assert world.field(cid) == "https://github.com/acme/app/issues/412"
    (record,) = [c.body for c in world.gh.issues[412].comments]
    assert record.startswith(f"<!-- [freescout-autolink] link conversation={cid} via=note:")
    (reply,) = world.bot_notes(cid)
    assert "notice=command:" in reply and "Linked to GitHub issue" in reply
    before = list(world.gh.calls)
    again = await world.deliver(note)
    assert (again.decision, again.reason, again.writes) == ("ignore", "command_done", [])
    assert world.gh.calls == before  # the reply is the done mark: no GitHub call at all


async def test_concurrent_deliveries_of_one_command_write_once(world: World) -> None:
    cid = world.ticket()
    note = world.note(cid, "<p>#github link 412</p>")
    outcomes = await asyncio.gather(*(world.deliver(note) for _ in range(5)))
    assert sorted(o.reason for o in outcomes) == ["command_done"] * 4 + ["linked"]
    assert [w for w in world.gh.writes() if w[0] == "post_comment"] == [("post_comment", 412)]
    assert len(world.bot_notes(cid)) == 1


async def test_a_second_and_third_ticket_create_then_edit_one_demand_comment(world: World) -> None:
    first, second, third = (
        world.ticket("a@one.example"),
        world.ticket("b@two.example"),
        world.ticket("c@two.example"),
    )
    world.gh.issues[412].body = f"<!-- [freescout-autolink] conversation={first} -->"
    world.control.post(
        f"/_sim/conversations/{first}/custom-fields",
        json={"customFields": [{"id": 7, "value": "https://github.com/acme/app/issues/412"}]},
    )
    note = world.note(second, "<p>#github link #412</p>")
    assert (await world.deliver(note)).writes[-1] == "refresh_demand:412"
    note = world.note(third, "<p>#github link https://github.com/acme/app/issues/412</p>")
    await world.deliver(note)
    bodies = [c.body for c in world.gh.issues[412].comments if "demand" in c.body.split("\n")[0]]
    assert len(bodies) == 1
    assert "3 FreeScout tickets from 3 customers wait on this issue" in bodies[0]
    assert "`two.example` (2)" in bodies[0] and "@" not in bodies[0]  # domains, never addresses
    assert world.gh.issues[412].labels == ["freescout-linked", "customer-demand"]  # threshold 3
    demand_id = next(c.id for c in world.gh.issues[412].comments if c.body == bodies[0])
    assert [w for w in world.gh.writes() if w[0] == "edit_comment"] == [("edit_comment", demand_id)]


async def test_the_first_ticket_alone_gets_no_demand_comment(world: World) -> None:
    cid = world.ticket()
    note = world.note(cid, "<p>#github link 412</p>")
    await world.deliver(note)
    assert not any("demand" in c.body.split("\n")[0] for c in world.gh.issues[412].comments)


@pytest.mark.parametrize(
    ("command", "issue", "reason", "says"),
    [
        ("#github link other/repo#412", None, "other_repository", "in another repository"),
        ("#github link 77", FakeIssue(77, state="closed"), "closed", "is closed"),
        ("#github link 78", FakeIssue(78, pull_request=True), "pull_request", "is a pull request"),
        ("#github link 4040", None, "not_found", "there is no issue"),
        ("#github link nonsense!", None, "bad_ref", "is not an issue reference"),
    ],
)
async def test_each_refusal_is_one_reply_and_nothing_else(
    world: World, command: str, issue: FakeIssue | None, reason: str, says: str
) -> None:
    if issue is not None:
        world.gh.issues[issue.number] = issue
    cid = world.ticket()
    note = world.note(cid, f"<p>{command}</p>")
    outcome = await world.deliver(note)
    assert (outcome.decision, outcome.reason, outcome.writes) == ("command_refused", reason, ["add_note"])
    (reply,) = world.bot_notes(cid)
    assert says in reply
    assert world.gh.writes() == [] and world.field(cid) == ""
    assert (await world.deliver(note)).reason == "command_done" and len(world.bot_notes(cid)) == 1


async def test_linked_elsewhere_is_refused_then_relink_moves_it_and_unlink_clears_it(world: World) -> None:
    world.gh.issues[500] = FakeIssue(500)
    cid = world.ticket()
    note = world.note(cid, "<p>#github link 412</p>")
    await world.deliver(note)
    note = world.note(cid, "<p>#github link 500</p>")
    refused = await world.deliver(note)
    assert refused.reason == "linked_elsewhere" and any("#github relink" in n for n in world.bot_notes(cid))
    note = world.note(cid, "<p>#github relink 500</p>")
    relinked = await world.deliver(note)
    assert relinked.writes[:4] == [
        "unlink_record:412",
        "link_record:500",
        "add_label:500",
        "set_custom_field",
    ]
    assert world.field(cid) == "https://github.com/acme/app/issues/500"
    note = world.note(cid, "<p>#github unlink</p>")
    unlinked = await world.deliver(note)
    assert unlinked.writes[:3] == ["unlink_record:500", "set_custom_field", "add_note"]
    assert world.field(cid) == "unlinked"
    # Tags cannot link it again: an ordinary event on the ticket is ignored from the payload.
    world.control.post(f"/_sim/conversations/{cid}/tags", json={"tags": ["bug"]})
    world.control.post(f"/_sim/conversations/{cid}/customer-reply", json={"body": "<p>any news?</p>"})
    reply = world.snapshot(cid)
    assert (await world.deliver(reply, "convo.customer.reply.created")).reason == "unlinked"


async def test_an_old_command_redelivered_after_a_newer_one_does_nothing(world: World) -> None:
    cid = world.ticket()
    first = world.note(cid, "<p>#github link 412</p>")
    note = world.note(cid, "<p>#github unlink</p>")
    assert (await world.deliver(note)).reason == "not_linked"
    late = await world.deliver(first)
    assert late.reason == "command_superseded" and world.field(cid) == "" and world.gh.writes() == []


async def test_the_bridges_own_reply_echo_writes_nothing(world: World) -> None:
    cid = world.ticket()
    note = world.note(cid, "<p>#github link 412</p>")
    await world.deliver(note)
    calls = list(world.gh.calls)
    echo = world.snapshot(cid)  # the reply note, as its convo.note.created delivery carries it
    assert (await world.deliver(echo)).reason == "own_write_echo"
    assert world.gh.calls == calls


async def test_a_record_whose_answer_was_lost_is_looked_for_not_posted_again(world: World) -> None:
    cid = world.ticket()
    note = world.note(cid, "<p>#github link 412</p>")
    world.gh.fail_next_post = True
    for _ in range(2):  # in doubt: the delivery answers 503 and the redelivery only looks
        with pytest.raises(TransientUpstreamError):
            await world.deliver(note)
    assert world.field(cid) == "" and world.bot_notes(cid) == []
    assert ("list_comments_after_writes", 412) in world.gh.calls  # the in-doubt look waits for writes
    world.gh.land()  # GitHub stored it after all
    assert (await world.deliver(note)).reason == "linked"
    records = [c for c in world.gh.issues[412].comments if "link conversation" in c.body]
    assert len(records) == 1 and world.field(cid).endswith("/issues/412")
    assert len(world.bot_notes(cid)) == 1


async def test_shadow_mode_decides_and_writes_nothing(freescout: ServerThread, control: httpx.Client) -> None:
    world = await make_world(freescout, control, flag="false")
    cid = world.ticket()
    note = world.note(cid, "<p>#github link 412</p>")
    outcome = await world.deliver(note)
    await world.client.aclose()
    assert (outcome.decision, outcome.reason) == ("would_command", "linked")
    assert world.gh.writes() == [] and world.bot_notes(cid) == [] and world.field(cid) == ""
