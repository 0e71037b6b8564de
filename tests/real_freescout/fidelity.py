"""The request sequence the fidelity test sends to both FreeScouts, and how answers are compared.

``run_scenario`` drives one target (the simulator or the real FreeScout) through the same API calls and
returns a transcript: per step the status, the headers that matter and the body, plus the webhooks
the sequence caused. ``shape`` reduces a body to what the bridge relies on: keys and value types.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.vocab import closed_notice_key, notice_marker

NOTICE_KEY = closed_notice_key("acme/app", 412, "2026-11-29T10:00:00Z")
# A close notice as the return path writes it: the hidden key first, GitHub's text escaped.
NOTICE_HTML = (
    f"{notice_marker(NOTICE_KEY)}<p>GitHub issue "
    '<a href="https://github.com/acme/app/issues/412">acme/app#412</a> “CSV &lt;script&gt;alert(1)&lt;/script&gt; '
    "&amp; export” was closed as completed by @dev.</p><p>Let the customer know once the fix has reached them.</p>"
)
# Headers of an API answer the bridge reads; of a delivery, the ones FreeScout sets itself.
API_HEADERS = ("content-type", "resource-id")
WEBHOOK_HEADERS = ("content-type", "x-freescout-event", "x-freescout-signature")
ALL_EVENTS = [
    "convo.created",
    "convo.assigned",
    "convo.status",
    "convo.moved",
    "convo.customer.reply.created",
    "convo.agent.reply.created",
    "convo.note.created",
    "customer.created",
    "customer.updated",
]


@dataclass
class Context:
    """Ids the scenario needs, found through the target's own API (they differ between targets)."""

    support_id: int
    field_id: int
    bot_id: int
    admin_id: int
    hook_url: str


@dataclass
class Step:
    name: str
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Transcript:
    steps: dict[str, Step] = field(default_factory=dict)
    webhooks: list[dict[str, Any]] = field(default_factory=list)

    def record(self, name: str, answer: httpx.Response) -> Any:
        body: Any = (
            answer.json() if answer.content and "json" in answer.headers.get("content-type", "") else None
        )
        headers = {k: _header(k, answer.headers.get(k)) for k in API_HEADERS if k in answer.headers}
        self.steps[name] = Step(name, answer.status_code, headers, body)
        return body


def _header(name: str, value: str | None) -> str:
    if name == "resource-id":
        return "<id>" if value and value.isdigit() else f"<bad {value!r}>"
    return (value or "").split(";")[0].strip()


class Receiver:
    """A webhook endpoint that records every delivery (headers and raw body) and answers 200."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        raw = await request.body()
        entry = {"headers": {k.lower(): v for k, v in request.headers.items()}, "raw": raw}
        with self._lock:
            self.received.append(entry)
        return Response(status_code=200)

    def take(self) -> list[dict[str, Any]]:
        with self._lock:
            taken, self.received = self.received, []
        return taken


def find_context(api: httpx.Client, hook_url: str) -> Context:
    mailboxes = api.get("/api/mailboxes").json()["_embedded"]["mailboxes"]
    support = next(m for m in mailboxes if m["email"] == "support@example.com")
    fields = api.get(f"/api/mailboxes/{support['id']}/custom_fields").json()["_embedded"]["custom_fields"]
    field_id = next(f["id"] for f in fields if f["name"] == "github_issue_url")
    users = {u["email"]: u["id"] for u in api.get("/api/users").json()["_embedded"]["users"]}
    return Context(
        int(support["id"]),
        int(field_id),
        users["issue-bot@example.com"],
        users["admin@example.com"],
        hook_url,
    )


def run_scenario(api: httpx.Client, ctx: Context, flush: Callable[[], list[dict[str, Any]]]) -> Transcript:
    """Every call the bridge (both directions) makes, in the order a linked-and-closed ticket sees them."""
    t = Transcript()
    t.record(
        "webhook.unknown_events", api.post("/api/webhooks", json={"url": ctx.hook_url, "events": ["nope"]})
    )
    t.record("webhook.create", api.post("/api/webhooks", json={"url": ctx.hook_url, "events": ALL_EVENTS}))
    created = t.record(
        "conversation.create",
        api.post(
            "/api/conversations",
            json={
                "type": "email",
                "mailboxId": ctx.support_id,
                "subject": "Fidelity: CSV export fails",
                "customer": {"email": "fidelity@example.com", "firstName": "Fi"},
                "threads": [{"type": "customer", "text": "<p>Every export ends with an error 500.</p>"}],
                "tags": ["bug"],
                "imported": True,
            },
        ),
    )
    cid = int(created["id"])
    conv = f"/api/conversations/{cid}"
    t.record("conversation.get.embed_tags_after_create", api.get(conv, params={"embed": "threads,tags"}))
    t.record("tags.put", api.put(f"{conv}/tags", json={"tags": ["bug", " Needs Triage "]}))
    t.webhooks += flush()  # customer.created and convo.created, as a new ticket's first delivery
    t.record("conversation.get", api.get(conv))
    t.record("conversation.get.embed_tags", api.get(conv, params={"embed": "threads,tags"}))
    t.record("conversation.get.embed_only_tags", api.get(conv, params={"embed": "tags"}))
    t.record("tags.list", api.get("/api/tags", params={"conversationId": cid}))
    filters = {"mailboxId": ctx.support_id, "tag": "BUG", "status": "active", "state": "published"}
    t.record("conversations.list.filters", api.get("/api/conversations", params=filters))
    t.record("conversations.list.other_tag", api.get("/api/conversations", params={**filters, "tag": "nope"}))
    t.record("note.without_user", api.post(f"{conv}/threads", json={"type": "note", "text": "<p>x</p>"}))
    t.record(
        "note.with_user",
        api.post(f"{conv}/threads", json={"type": "note", "user": ctx.bot_id, "text": "<p>Linked: x</p>"}),
    )
    t.webhooks += flush()  # the bot's note echoes as convo.note.created
    url = "https://github.com/acme/app/issues/412"
    t.record(
        "fields.put",
        api.put(f"{conv}/custom_fields", json={"customFields": [{"id": ctx.field_id, "value": url}]}),
    )
    t.record(
        "fields.put_empty",
        api.put(f"{conv}/custom_fields", json={"customFields": [{"id": ctx.field_id, "value": ""}]}),
    )
    t.record("conversation.get.after_fields", api.get(conv))
    t.record("mailbox.custom_fields", api.get(f"/api/mailboxes/{ctx.support_id}/custom_fields"))
    t.record("users.by_email", api.get("/api/users", params={"email": "issue-bot@example.com"}))
    t.record("status.without_by_user", api.put(conv, json={"status": "closed"}))
    t.record("status.closed", api.put(conv, json={"status": "closed", "byUser": ctx.admin_id}))
    t.record("conversation.get.closed", api.get(conv))
    t.record("conversation.missing", api.get("/api/conversations/987654"))
    t.record("auth.wrong_key", api.get(conv, headers={"X-FreeScout-API-Key": "0" * 32}))
    t.webhooks += flush()  # convo.status
    return_path(t, api, ctx, conv, flush)
    return t


def return_path(
    t: Transcript, api: httpx.Client, ctx: Context, conv: str, flush: Callable[[], list[dict[str, Any]]]
) -> None:
    """The calls of GitHub → FreeScout (issue #10) on the now closed conversation: the bot's keyed note
    (it must keep the status and the hidden key), an agent's pending, the bot's wake-up to active (PUT
    with ``byUser``) and the same again (a retry). Each step's webhooks are labelled for the fixtures."""
    t.record(
        "note.notice_on_closed",
        api.post(f"{conv}/threads", json={"type": "note", "user": ctx.bot_id, "text": NOTICE_HTML}),
    )
    t.record("conversation.get.after_notice", api.get(conv, params={"embed": "threads"}))
    t.webhooks += labelled(flush(), "notice_on_closed")
    t.record("status.pending", api.put(conv, json={"status": "pending", "byUser": ctx.admin_id}))
    t.webhooks += labelled(flush(), "pending_by_agent")
    t.record("status.active_by_bot", api.put(conv, json={"status": "active", "byUser": ctx.bot_id}))
    t.webhooks += labelled(flush(), "active_by_bot")
    t.record("status.active_again", api.put(conv, json={"status": "active", "byUser": ctx.bot_id}))
    t.record("conversation.get.active", api.get(conv, params={"embed": "threads"}))
    t.webhooks += labelled(flush(), "active_again")  # none: an unchanged status fires nothing


def labelled(hooks: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    return [{**hook, "label": label} for hook in hooks]


def shape(value: Any) -> Any:
    """Keys and types, recursively; a list is the shape of its first item."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return "null"
    return type(value).__name__


def differences(sim: Any, real: Any, path: str = "$") -> list[str]:
    """Where two shapes differ. ``null`` matches any type (FreeScout leaves unset values null), and an
    empty list matches any list."""
    if sim == real or "null" in (sim, real):
        return []
    if isinstance(sim, dict) and isinstance(real, dict):
        out = [f"{path}.{k}: only in the simulator" for k in sim.keys() - real.keys()]
        out += [f"{path}.{k}: only in real FreeScout" for k in real.keys() - sim.keys()]
        for k in sim.keys() & real.keys():
            out += differences(sim[k], real[k], f"{path}.{k}")
        return out
    if isinstance(sim, list) and isinstance(real, list):
        if not sim or not real:
            return []
        return differences(sim[0], real[0], f"{path}[]")
    return [f"{path}: simulator {sim!r}, real {real!r}"]
