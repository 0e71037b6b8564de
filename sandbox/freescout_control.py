"""Control plane (``/_sim/...``) of the local FreeScout simulator: no API key, JSON in/out.

It plays the outside world (customers emailing, agents clicking in the UI) and exposes
the simulator's internals (webhook deliveries, recorded requests, state) to tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import freescout_render as render
from sandbox.asgi import parse_json_bytes
from sandbox.freescout_model import STATUSES, Conversation, CustomField, Mailbox, User, lenient
from sandbox.freescout_state import FreeScoutSim

Body = dict[str, Any]
ConvHandler = Callable[[FreeScoutSim, Conversation, Body], Response]


def _fail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> Body:
    parsed = parse_json_bytes(await request.body())
    return parsed if isinstance(parsed, dict) else {}


def _user(sim: FreeScoutSim, body: Body, key: str = "userId") -> User:
    user = sim.store.users.get(int(body.get(key) or 3))
    if user is None:
        raise LookupError(f"unknown user {body.get(key)}")
    return user


def _show(sim: FreeScoutSim, conv: Conversation, status: int = 200) -> JSONResponse:
    return JSONResponse(render.conversation(sim.store, conv, tags=True), status_code=status)


async def email_arrives(request: Request) -> Response:
    sim: FreeScoutSim = request.app.state.sim
    body = await _body(request)
    s = sim.store
    mailbox = s.mailboxes.get(int(body.get("mailboxId") or 0))
    if mailbox is None or not body.get("customerEmail"):
        return _fail(400, "mailboxId (existing) and customerEmail are required")
    customer = s.customer_by_email(str(body["customerEmail"]))
    if customer is None:
        first = body.get("customerFirstName")
        customer = s.create_customer(str(body["customerEmail"]), first, body.get("customerLastName"))
        sim.emit_customer_created(customer)
    conv = s.open_conversation(
        mailbox_id=mailbox.id,
        subject=str(body.get("subject") or ""),
        customer=customer,
        ctype="email",
        source_type="email",
    )
    status = lenient(body["status"], STATUSES, "active") if body.get("status") else None
    thread = s.add_thread(
        conv,
        ttype="customer",
        body=str(body.get("body") or ""),
        author=("customer", customer.id),
        source_type="email",
        status=status,
        to=[mailbox.email],
        cc=list(body.get("cc") or []),
    )
    s.set_tags(conv, list(body.get("tags") or []))
    sim.emit_thread(conv, thread, first=True)
    return _show(sim, conv, 201)


def agent_status(sim: FreeScoutSim, conv: Conversation, body: Body) -> Response:
    if sim.store.change_status(
        conv, lenient(body.get("status"), STATUSES, "active"), _user(sim, body), "web"
    ):
        sim.emit("convo.status", conv)
    return _show(sim, conv)


def customer_reply(sim: FreeScoutSim, conv: Conversation, body: Body) -> Response:
    s = sim.store
    customer = s.customer_by_email(str(body["customerEmail"])) if body.get("customerEmail") else None
    customer = customer or s.customers[conv.customer_id]
    mailbox = s.mailboxes.get(conv.mailbox_id)
    thread = s.add_thread(
        conv,
        ttype="customer",
        body=str(body.get("body") or ""),
        author=("customer", customer.id),
        source_type="email",
        to=[mailbox.email] if mailbox else [],
    )
    sim.emit_thread(conv, thread, first=False)
    return _show(sim, conv)


def agent_thread(ttype: str) -> ConvHandler:
    def handler(sim: FreeScoutSim, conv: Conversation, body: Body) -> Response:
        user = _user(sim, body)
        before = conv.status
        status = lenient(body["status"], STATUSES, "active") if body.get("status") else None
        text = str(body.get("body") or "")
        thread = sim.store.add_thread(
            conv, ttype=ttype, body=text, author=("user", user.id), source_type="web", status=status
        )
        sim.emit_thread(conv, thread, first=False)
        if ttype == "message" and status is not None and conv.status != before:
            sim.emit("convo.status", conv)  # module >= 1.0.82: status changed while replying
        return _show(sim, conv)

    return handler


def ui_tags(sim: FreeScoutSim, conv: Conversation, body: Body) -> Response:
    sim.store.set_tags(conv, list(body.get("tags") or []))
    return _show(sim, conv)


def ui_custom_fields(sim: FreeScoutSim, conv: Conversation, body: Body) -> Response:
    for entry in body.get("customFields") or []:
        field_id, value = int(entry["id"]), entry.get("value")
        if value in (None, ""):
            conv.custom_values.pop(field_id, None)
        elif field_id in sim.store.fields:
            conv.custom_values[field_id] = str(value)
    return _show(sim, conv)


def ui_assign(sim: FreeScoutSim, conv: Conversation, body: Body) -> Response:
    assignee = sim.store.users.get(int(body.get("userId") or 0))
    if sim.store.assign(conv, assignee, _user(sim, body, "byUserId"), "web") and assignee is not None:
        sim.emit("convo.assigned", conv)
    return _show(sim, conv)


def ui_move(sim: FreeScoutSim, conv: Conversation, body: Body) -> Response:
    mailbox = sim.store.mailboxes.get(int(body.get("mailboxId") or 0))
    if mailbox is None:
        return _fail(400, "unknown mailboxId")
    if sim.store.move(conv, mailbox, _user(sim, body, "byUserId"), "web"):
        sim.emit("convo.moved", conv)
    return _show(sim, conv)


def ui_delete(sim: FreeScoutSim, conv: Conversation, body: Body) -> Response:
    sim.store.delete(conv, _user(sim, body, "byUserId"))
    sim.emit("convo.deleted", conv)
    return _show(sim, conv)


def on_conversation(handler: ConvHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        sim: FreeScoutSim = request.app.state.sim
        conv = sim.store.conversations.get(int(request.path_params["id"]))
        if conv is None:
            return _fail(404, "unknown conversation")
        try:
            return handler(sim, conv, await _body(request))
        except (LookupError, ValueError, TypeError) as exc:
            return _fail(400, str(exc))

    return endpoint


async def add_user(request: Request) -> Response:
    sim: FreeScoutSim = request.app.state.sim
    b = await _body(request)
    user = User(int(b.get("id") or sim.store.next_id("user")), b["firstName"], b["lastName"], b["email"])
    user.role = str(b.get("role") or "user")
    sim.store.users[user.id] = user
    return JSONResponse(render.user_full(user), status_code=201)


async def add_mailbox(request: Request) -> Response:
    sim: FreeScoutSim = request.app.state.sim
    b = await _body(request)
    s = sim.store
    mailbox = Mailbox(
        int(b.get("id") or max(s.mailboxes, default=0) + 1), b["name"], b["email"], created_at=s.now()
    )
    s.mailboxes[mailbox.id] = mailbox
    for order, spec in enumerate(b.get("customFields") or [], start=1):
        cf_id = int(spec.get("id") or max(s.fields, default=100) + 1)
        s.fields[cf_id] = CustomField(
            cf_id,
            mailbox.id,
            spec["name"],
            spec.get("type", "singleline"),
            spec.get("options", ""),
            sort_order=order,
        )
    return JSONResponse(render.mailbox(mailbox), status_code=201)


CONVERSATION_ACTIONS: dict[str, ConvHandler] = {
    "agent-status": agent_status,
    "customer-reply": customer_reply,
    "agent-note": agent_thread("note"),
    "agent-reply": agent_thread("message"),
    "tags": ui_tags,
    "custom-fields": ui_custom_fields,
    "assign": ui_assign,
    "move": ui_move,
    "delete": ui_delete,
}

ROUTES = [
    Route("/_sim/conversations", email_arrives, methods=["POST"]),
    *(
        Route(f"/_sim/conversations/{{id:int}}/{name}", on_conversation(handler), methods=["POST"])
        for name, handler in CONVERSATION_ACTIONS.items()
    ),
    Route("/_sim/users", add_user, methods=["POST"]),
    Route("/_sim/mailboxes", add_mailbox, methods=["POST"]),
]
