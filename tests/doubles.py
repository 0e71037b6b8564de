"""In-memory doubles of the two upstream clients, defined once and passed in, never patched by module path.

``FakeFreeScout`` has the ``FreeScoutAPI`` methods the linker, the sweep and Direction B call, over
conversations kept as FreeScout API JSON (parsed by ``bridge.model`` like a real answer). ``FakeGitHub``
has the ``GitHubIssues`` methods of Direction A and the ``IssueClient`` methods of Direction B, over one
repository's issues. Both append every call to ``calls`` (one list may be shared, to see the order of
writes across both), and fail on demand like the simulators' faults (``fail``):

- ``"refused"``: the call raises and writes nothing (a 503 that did not reach the application);
- ``"lost"``: the write lands, then the call raises (the answer was lost on the way back);
- ``"late"``: the call raises and its write lands later, at ``land_late_writes()`` or once
  ``lands_after`` further calls reached that upstream (a create that PHP or GitHub finished after the
  client gave up, the duplicate-ticket shape of issue #12).

``error=Crash()`` stands for the process dying at that point: a fresh ``Linker`` (a restarted process)
then runs the recovery.

The default errors are the ones the real clients raise for these cases (a 503, a dropped connection, a
timeout), so ``bridge.in_doubt`` classifies them exactly as it classifies real ones.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from bridge.actions.decide import Comment, IssueState, parse_issue
from bridge.errors import PermanentUpstreamError, TransientUpstreamError
from bridge.freescout_api import ThreadType
from bridge.github_api import IssueRef
from bridge.model import Conversation, parse_conversation
from bridge.vocab import LABEL_LINKED, conversation_ids_in
from tests.helpers import FIXTURES

T = TypeVar("T")
Kind = Literal["refused", "lost", "late"]
Call = tuple[Any, ...]

#: Writes a real client sends once (``bridge.in_doubt`` looks before and after them).
NOT_IDEMPOTENT = frozenset(
    {"create_issue", "create_comment", "post_comment", "add_thread", "create_conversation"}
)
BOT_USER_ID = 9
REPOSITORY = "acme/app"
#: Mailboxes as the FreeScout simulator seeds them: Ops and Support have the field, Sales does not.
MAILBOXES = (
    {"id": 1, "name": "Ops", "email": "ops@example.com", "field_id": 12},
    {"id": 2, "name": "Support", "email": "support@example.com", "field_id": 7},
    {"id": 3, "name": "Sales", "email": "sales@example.com", "field_id": None},
)


class Crash(Exception):
    """The process dies here (``kill -9``): nothing after this point of the pass runs."""


@dataclass
class _Fault:
    operation: str
    kind: Kind
    error: Callable[[], Exception]
    times: int
    lands_after: int | None


@dataclass
class _Upstream:
    """What both fakes share: the call record, the faults, and writes still to land."""

    api: str
    calls: list[Call]
    faults: list[_Fault] = field(default_factory=list)
    late: list[tuple[int | None, Callable[[], Any]]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def fail(
        self,
        operation: str,
        kind: Kind = "refused",
        *,
        times: int = 1,
        error: Exception | None = None,
        lands_after: int | None = None,
    ) -> None:
        reason, status = {"refused": ("http_503", 503), "lost": ("connection_error", None)}.get(
            kind, ("timeout", None)
        )

        def make() -> Exception:
            return error or TransientUpstreamError(self.api, operation, reason, status=status)

        self.faults.append(_Fault(operation, kind, make, times, lands_after))

    def call(self, operation: str, detail: tuple[Any, ...], do: Callable[[], T]) -> T:
        """Record the call, then do it, or fail it as a fault says."""
        with self.lock:
            self._count_down()
            self.calls.append((self.api, operation, *detail))
            fault = next((f for f in self.faults if f.operation == operation and f.times > 0), None)
            if fault is None:
                return do()
            fault.times -= 1
            if fault.kind == "lost":
                do()
            elif fault.kind == "late":
                self.late.append((fault.lands_after, do))
            raise fault.error()

    def _count_down(self) -> None:
        """Late writes with a countdown land once that many further calls have reached this upstream."""
        waiting = []
        for left, write in self.late:
            if left is not None and left <= 1:
                write()
            else:
                waiting.append((None if left is None else left - 1, write))
        self.late = waiting

    def land_late_writes(self) -> None:
        with self.lock:
            writes, self.late = self.late, []
            for _left, write in writes:
                write()


def _conversation_template() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "freescout" / "convo.created.json").read_text("utf-8"))
    return data


class FakeFreeScout:
    """``FreeScoutAPI`` in memory: conversations as the API returns them with ``embed=threads,tags``."""

    def __init__(
        self, calls: list[Call] | None = None, mailboxes: Iterable[dict[str, Any]] = MAILBOXES
    ) -> None:
        self.upstream = _Upstream("freescout", calls if calls is not None else [])
        self.mailboxes = [dict(m) for m in mailboxes]
        self.users = {BOT_USER_ID: {"id": BOT_USER_ID, "firstName": "Issue", "lastName": "Bot"}}
        self.conversations: dict[int, dict[str, Any]] = {}
        self._next_thread = 9000

    @property
    def calls(self) -> list[Call]:
        return self.upstream.calls

    def fail(
        self,
        operation: str,
        kind: Kind = "refused",
        *,
        times: int = 1,
        error: Exception | None = None,
        lands_after: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``operation`` fail as ``kind`` says (see the module docstring)."""
        self.upstream.fail(operation, kind, times=times, error=error, lands_after=lands_after)

    def land_late_writes(self) -> None:
        self.upstream.land_late_writes()

    # -- seeding (not calls) ---------------------------------------------------------------------------------
    def add_conversation(
        self,
        conversation_id: int = 1287,
        *,
        tags: Iterable[str] = ("bug",),
        mailbox_id: int = 2,
        **changes: Any,
    ) -> int:
        """A customer's conversation like the recorded ``convo.created`` body, with ``tags`` and ``changes``."""
        data = _conversation_template()
        data.update(id=conversation_id, number=conversation_id, mailboxId=mailbox_id, **changes)
        data["_embedded"]["tags"] = [{"id": n, "name": t} for n, t in enumerate(tags, start=1)]
        box = next(m for m in self.mailboxes if m["id"] == mailbox_id)
        fields = [{"id": box["field_id"], "name": "github_issue_url", "value": "", "text": ""}]
        data["customFields"] = fields if box["field_id"] is not None else []
        self.conversations[conversation_id] = data
        return conversation_id

    def close(self, conversation_id: int, closed_at: str = "2025-03-06T16:40:02Z") -> None:
        """An agent closes the conversation: status, ``closedAt`` and the status line item, as recorded."""
        self._next_thread += 1
        line = {
            "id": self._next_thread,
            "type": "lineitem",
            "status": "closed",
            "state": "published",
            "action": {"type": "changed-ticket-status", "text": "Alex Rivera marked as Closed"},
            "body": None,
            "createdBy": {"id": 3, "type": "user"},
            "createdAt": closed_at,
        }
        data = self.conversations[conversation_id]
        data.update(status="closed", closedAt=closed_at)
        data["_embedded"]["threads"].insert(0, line)

    def reopen(self, conversation_id: int) -> None:
        self.conversations[conversation_id].update(status="active", closedAt=None)

    def field(self, conversation_id: int) -> str:
        fields = self.conversations[conversation_id]["customFields"]
        return str(next((f["value"] for f in fields if f["name"] == "github_issue_url"), ""))

    def notes(self, conversation_id: int, by: int = BOT_USER_ID) -> list[str]:
        threads = self.conversations[conversation_id]["_embedded"]["threads"]
        return [t["body"] for t in threads if t["type"] == "note" and t["createdBy"]["id"] == by]

    def writes(self) -> list[str]:
        """The write operations in the order they were called (failed ones included)."""
        return [
            c[1]
            for c in self.calls
            if c[0] == "freescout" and not c[1].startswith(("get", "list", "mailbox"))
        ]

    # -- FreeScoutAPI ----------------------------------------------------------------------------------------
    async def get_conversation(self, conversation_id: int) -> Conversation:
        def read() -> Conversation:
            if conversation_id not in self.conversations:
                raise PermanentUpstreamError("freescout", "get_conversation", "http_404", status=404)
            return parse_conversation(copy.deepcopy(self.conversations[conversation_id]))

        return self.upstream.call("get_conversation", (conversation_id,), read)

    async def add_thread(
        self, conversation_id: int, thread_type: ThreadType, html: str, user_id: int
    ) -> None:
        def write() -> None:
            self._next_thread += 1
            thread = {
                "id": self._next_thread,
                "type": ThreadType(thread_type).value,
                "state": "published",
                "body": html,
                "createdBy": {"id": user_id, "type": "user"},
                "createdAt": "2025-03-04T09:13:30Z",
            }
            self.conversations[conversation_id]["_embedded"]["threads"].insert(0, thread)

        self.upstream.call("add_thread", (conversation_id, ThreadType(thread_type).value), write)

    async def set_custom_field(self, conversation_id: int, field_id: int, value: str) -> None:
        def write() -> None:
            for item in self.conversations[conversation_id]["customFields"]:
                if item["id"] == field_id:
                    item["value"] = value

        self.upstream.call("set_custom_field", (conversation_id, value), write)

    async def set_tags(self, conversation_id: int, tags: list[str]) -> None:
        def write() -> None:
            self.conversations[conversation_id]["_embedded"]["tags"] = [
                {"id": n, "name": t} for n, t in enumerate(tags, start=1)
            ]

        self.upstream.call("set_tags", (conversation_id, tuple(tags)), write)

    async def create_conversation(self, payload: dict[str, Any]) -> int:
        def write() -> int:
            conversation_id = max(self.conversations, default=2000) + 1
            data = _conversation_template()
            data.update(id=conversation_id, number=conversation_id, mailboxId=payload["mailboxId"])
            data.update(
                subject=payload["subject"], type=payload["type"], status=payload.get("status", "active")
            )
            data["customer"] = {"email": payload["customer"]["email"]}
            threads = [
                {
                    "id": conversation_id * 10,
                    "type": t["type"],
                    "state": "published",
                    "body": t["text"],
                    "createdBy": {"id": t.get("user"), "type": "user"},
                    "createdAt": "2025-03-04T09:12:44Z",
                }
                for t in payload.get("threads", [])
            ]
            data["_embedded"] = {"threads": threads, "tags": []}
            values = {f["id"]: f["value"] for f in payload.get("customFields", [])}
            box = next(m for m in self.mailboxes if m["id"] == payload["mailboxId"])
            data["customFields"] = [
                {"id": box["field_id"], "name": "github_issue_url", "value": values.get(box["field_id"], "")}
            ]
            self.conversations[conversation_id] = data
            return conversation_id

        return self.upstream.call("create_conversation", (payload["mailboxId"],), write)

    async def list_mailboxes(self) -> list[dict[str, Any]]:
        boxes = [{k: v for k, v in m.items() if k != "field_id"} for m in self.mailboxes]
        return self.upstream.call("list_mailboxes", (), lambda: boxes)

    async def mailbox_custom_fields(self, mailbox_id: int) -> list[dict[str, Any]]:
        box = next((m for m in self.mailboxes if m["id"] == mailbox_id), None)
        fields = (
            []
            if box is None or box["field_id"] is None
            else [{"id": box["field_id"], "name": "github_issue_url"}]
        )
        return self.upstream.call("mailbox_custom_fields", (mailbox_id,), lambda: fields)

    async def list_conversations(self, **filters: Any) -> AsyncIterator[Conversation]:
        def matching() -> list[Conversation]:
            found = []
            for data in self.conversations.values():
                tags = {t["name"] for t in data["_embedded"].get("tags", [])}
                if (
                    filters.get("mailboxId", data["mailboxId"]) == data["mailboxId"]
                    and filters.get("status", data["status"]) == data["status"]
                    and filters.get("state", data["state"]) == data["state"]
                    and filters.get("tag", next(iter(tags), None)) in tags | {None}
                    and filters.get("customerEmail", data["customer"]["email"]) == data["customer"]["email"]
                ):
                    listed = copy.deepcopy(data)
                    listed["_embedded"].pop("threads", None)  # the list endpoint embeds no threads
                    found.append(parse_conversation(listed))
            return found

        for conversation in self.upstream.call(
            "list_conversations", tuple(sorted(filters.items())), matching
        ):
            yield conversation

    async def get_user(self, user_id: int) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            if user_id not in self.users:
                raise PermanentUpstreamError("freescout", "get_user", "http_404", status=404)
            return dict(self.users[user_id])

        return self.upstream.call("get_user", (user_id,), read)

    async def probe(self) -> None:
        self.upstream.call("probe", (), lambda: None)


@dataclass
class _Issue:
    number: int
    title: str
    body: str
    labels: list[str]
    comments: list[str] = field(default_factory=list)
    created_at: str = "2025-03-04T09:13:00Z"


class FakeGitHub:
    """One repository's issues in memory, for ``GitHubIssues`` (Direction A) and ``IssueClient`` (B).

    A create takes ``race`` seconds, so two callers that the bridge's own lock does not keep apart would
    both look, both find nothing and both create.
    """

    def __init__(
        self, calls: list[Call] | None = None, repository: str = REPOSITORY, race: float = 0.01
    ) -> None:
        self.upstream = _Upstream("github", calls if calls is not None else [])
        self._repository = repository
        self.race = race
        self.issues: dict[int, _Issue] = {}

    @property
    def calls(self) -> list[Call]:
        return self.upstream.calls

    @property
    def repository(self) -> str:
        return self._repository

    def fail(
        self,
        operation: str,
        kind: Kind = "refused",
        *,
        times: int = 1,
        error: Exception | None = None,
        lands_after: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``operation`` fail as ``kind`` says (see the module docstring)."""
        self.upstream.fail(operation, kind, times=times, error=error, lands_after=lands_after)

    def land_late_writes(self) -> None:
        self.upstream.land_late_writes()

    def url(self, number: int) -> str:
        return f"https://github.com/{self._repository}/issues/{number}"

    # -- seeding and reading back (not calls) ----------------------------------------------------------------
    def add_issue(
        self, title: str = "Export crashes on save", labels: Iterable[str] = (), body: str = ""
    ) -> int:
        number = max(self.issues, default=0) + 1
        self.issues[number] = _Issue(number, title, body, list(labels))
        return number

    def issues_for(self, conversation_id: int) -> list[int]:
        return [n for n, i in self.issues.items() if conversation_id in conversation_ids_in(i.body)]

    def comments_on(self, number: int) -> list[str]:
        return list(self.issues[number].comments)

    def writes(self) -> list[str]:
        return [c[1] for c in self.calls if c[0] == "github" and c[1] in NOT_IDEMPOTENT]

    def _ref(self, issue: _Issue) -> IssueRef:
        return IssueRef(issue.number, self.url(issue.number), tuple(issue.labels))

    # -- GitHubIssues (Direction A) --------------------------------------------------------------------------
    def probe(self) -> dict[str, Any]:
        return self.upstream.call("probe", (), lambda: {"full_name": self._repository})

    def find_linked_issue(self, conversation_id: int, since: datetime | None) -> IssueRef | None:
        def look() -> IssueRef | None:
            for issue in sorted(self.issues.values(), key=lambda i: -i.number):
                if LABEL_LINKED in issue.labels and conversation_id in conversation_ids_in(issue.body):
                    return self._ref(issue)
            return None

        return self.upstream.call("find_linked_issue", (conversation_id,), look)

    def create_issue(self, title: str, body: str, labels: Iterable[str]) -> IssueRef:
        wanted = list(labels)
        time.sleep(self.race)  # the marker look-up that came before is already out of date

        def create() -> IssueRef:
            number = max(self.issues, default=0) + 1
            self.issues[number] = _Issue(number, title, body, wanted)
            return self._ref(self.issues[number])

        return self.upstream.call("create_issue", (title,), create)

    def has_comment_with(self, number: int, marker: str) -> bool:
        return self.upstream.call(
            "has_comment_with", (number,), lambda: any(marker in c for c in self.issues[number].comments)
        )

    def create_comment(self, number: int, body: str) -> None:
        self.upstream.call("create_comment", (number,), lambda: self.issues[number].comments.append(body))

    # -- IssueClient (Direction B) ---------------------------------------------------------------------------
    def get_issue(self, number: int) -> IssueState:
        def read() -> IssueState:
            issue = self.issues[number]
            return parse_issue(
                {
                    "number": issue.number,
                    "html_url": self.url(issue.number),
                    "title": issue.title,
                    "body": issue.body,
                    "labels": [{"name": n} for n in issue.labels],
                    "created_at": issue.created_at,
                }
            )

        return self.upstream.call("get_issue", (number,), read)

    def comments(self, number: int) -> list[Comment]:
        def read() -> list[Comment]:
            url = self.url(number)
            return [
                Comment(body, f"{url}#issuecomment-{n}")
                for n, body in enumerate(self.issues[number].comments, 1)
            ]

        return self.upstream.call("list_comments", (number,), read)

    def post_comment(self, number: int, body: str) -> str:
        def post() -> str:
            self.issues[number].comments.append(body)
            return f"{self.url(number)}#issuecomment-{len(self.issues[number].comments)}"

        return self.upstream.call("post_comment", (number,), post)
