"""Conversation endpoints of the local FreeScout simulator's REST API (``/api/...``).

Behaviour follows docs/upstream/freescout.md section 4, including the lenient enum parsing
(unknown thread ``type`` becomes ``customer``), ``byUser`` rules and embed semantics.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox import freescout_render as render
from sandbox.freescout_http import (
    Data,
    api,
    error,
    missing,
    no_content,
    not_found,
    ok,
    page_args,
    server_error,
    to_int,
)
from sandbox.freescout_model import (
    STATUSES,
    TYPES,
    Conversation,
    StoreError,
    Thread,
    lenient,
    normalize_tag,
    parse_time,
)
from sandbox.freescout_state import FreeScoutSim

THREAD_TYPES = ("customer", "message", "note")
_SORT_KEYS: dict[str, Callable[[Conversation], Any]] = {
    "createdAt": lambda c: (c.created_at, c.id),
    "updatedAt": lambda c: (c.updated_at, c.id),
    "number": lambda c: (c.number, c.id),
    "subject": lambda c: (c.subject.lower(), c.id),
    "mailboxId": lambda c: (c.mailbox_id, c.id),
    "waitingSince": lambda c: (c.last_reply_at or datetime.min.replace(tzinfo=c.created_at.tzinfo), c.id),
}


def _embed(data: Data, *, default_threads: bool) -> tuple[bool, bool]:
    embed = data.get("embed")
    if not embed:
        return default_threads, False
    parts = {p.strip() for p in str(embed).split(",")}
    return "threads" in parts, "tags" in parts


def _attr_eq(attr: str, want: object) -> Callable[[Conversation], bool]:
    return lambda c: bool(getattr(c, attr) == want)


def _attr_since(attr: str, since: datetime) -> Callable[[Conversation], bool]:
    return lambda c: bool(getattr(c, attr) >= since)


def _filters(sim: FreeScoutSim, data: Data) -> list[Callable[[Conversation], bool]]:
    s = sim.store
    checks: list[Callable[[Conversation], bool]] = []
    if data.get("mailboxId"):
        ids = {to_int(x) for x in str(data["mailboxId"]).split(",")}
        checks.append(lambda c: c.mailbox_id in ids)
    if data.get("folderId"):
        checks.append(lambda c: c.folder_id() == to_int(data["folderId"]))
    statuses = [x.strip() for x in str(data.get("status") or "").split(",") if x.strip() in STATUSES]
    if statuses:
        checks.append(lambda c: c.status in statuses)
    for key, attr, allowed in (
        ("state", "state", ("draft", "published", "deleted")),
        ("type", "type", TYPES),
    ):
        if data.get(key) in allowed:
            checks.append(_attr_eq(attr, data[key]))
    if "assignedTo" in data:
        checks.append(lambda c: c.assignee_id == to_int(data["assignedTo"]))
    if data.get("customerEmail"):
        email = str(data["customerEmail"])
        checks.append(lambda c: (cust := s.customers.get(c.customer_id)) is not None and cust.email == email)
    for key, attr in (("customerId", "customer_id"), ("number", "number")):
        if data.get(key):
            wanted_id = to_int(data[key])
            checks.append(_attr_eq(attr, wanted_id))
    if data.get("subject"):
        needle = str(data["subject"]).lower()
        checks.append(lambda c: needle in c.subject.lower())
    if data.get("tag") and (name := normalize_tag(data["tag"])):
        tag = s.tag_by_name(name)
        checks.append(lambda c: tag is not None and tag.id in c.tag_ids)
    for key, attr in (("createdSince", "created_at"), ("updatedSince", "updated_at")):
        since = parse_time(str(data[key])) if data.get(key) else None
        if since is not None:
            checks.append(_attr_since(attr, since))
    return checks


async def list_conversations(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    checks = _filters(sim, data)
    convs = [c for c in sim.store.conversations.values() if all(check(c) for check in checks)]
    sort_key = _SORT_KEYS.get(str(data.get("sortField")), _SORT_KEYS["createdAt"])
    convs.sort(key=sort_key, reverse=data.get("sortOrder") != "asc")
    number, size = page_args(data)
    threads, tags = _embed(data, default_threads=False)
    chunk = convs[(number - 1) * size : number * size]
    items = [render.conversation(sim.store, c, threads=threads, tags=tags) for c in chunk]
    return ok(render.page("conversations", items, number=number, size=size, total=len(convs)))


async def get_conversation(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    conv = sim.store.conversations.get(int(request.path_params["id"]))
    if conv is None:
        return not_found()
    threads, tags = _embed(data, default_threads=True)
    return ok(render.conversation(sim.store, conv, threads=threads, tags=tags))


def add_thread(
    sim: FreeScoutSim, conv: Conversation, spec: Data, status: str | None = None
) -> tuple[Thread | None, Response | None]:
    """``createThread``: validation, customer/user lookup, status rules and events."""
    s = sim.store
    if (problem := missing(spec, ("text", "type"))) is not None:
        return None, problem
    ttype = lenient(spec["type"], THREAD_TYPES, "customer")
    customer = s.customers.get(conv.customer_id)
    if spec.get("customer") is not None:
        try:
            customer, created = s.resolve_customer(spec["customer"])
        except StoreError as exc:
            return None, error(exc.message, exc.path)
        if created:
            sim.emit_customer_created(customer)
    user = s.users.get(to_int(spec.get("user")) or 0) if ttype != "customer" else None
    if ttype != "customer" and user is None:
        return None, error("`user` parameter is required", "user")
    if ttype == "customer" and customer is None:
        return None, error("`customer` parameter is required", "customer")
    assert customer is not None
    wanted = status or spec.get("status")
    imported = bool(spec.get("imported"))
    created_at = parse_time(str(spec["createdAt"])) if imported and spec.get("createdAt") else None
    first = not conv.threads
    thread = s.add_thread(
        conv,
        ttype=ttype,
        body=str(spec["text"]),
        author=("customer", customer.id) if user is None else ("user", user.id),
        source_type="api",
        status=lenient(wanted, STATUSES, "active") if wanted is not None else None,
        customer_id=customer.id,
        state="draft" if spec.get("state") == "draft" else "published",
        cc=_emails(spec.get("cc")),
        bcc=_emails(spec.get("bcc")),
        created_at=created_at,
    )
    sim.emit_thread(conv, thread, first=first)
    return thread, None


def _emails(value: Any) -> list[str]:
    items = value if isinstance(value, list) else []
    return [v for v in items if isinstance(v, str) and "@" in v]


async def create_conversation(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    s = sim.store
    if (problem := missing(data, ("subject", "type", "mailboxId", "customer", "threads"))) is not None:
        return problem
    threads = data["threads"]
    if not isinstance(threads, list) or not all(isinstance(t, dict) for t in threads):
        return error("'threads' parameter must be an array", "threads")
    try:
        customer, created = s.resolve_customer(data["customer"])
    except StoreError as exc:
        return error(exc.message, exc.path)
    if created:
        sim.emit_customer_created(customer)
    mailbox = s.mailboxes.get(to_int(data["mailboxId"]) or 0)
    if mailbox is None:
        return error("Mailbox not found", "mailboxId")
    status = lenient(data["status"], STATUSES, "active") if data.get("status") is not None else None
    imported = bool(data.get("imported"))
    assignee = s.users.get(to_int(data.get("assignTo")) or 0)
    conv = s.open_conversation(
        mailbox_id=mailbox.id,
        subject=str(data["subject"]),
        customer=customer,
        ctype=lenient(data["type"], TYPES, "email"),
        source_type="api",
        status=status or "active",
        assignee_id=assignee.id if assignee else None,
        imported=imported,
        created_at=parse_time(str(data["createdAt"])) if data.get("createdAt") else None,
    )
    if imported and data.get("closedAt"):
        conv.closed_at = parse_time(str(data["closedAt"]))
    last_problem: Response | None = None
    for spec in reversed(threads):
        spec = {**spec, "imported": True} if imported else spec
        _, last_problem = add_thread(sim, conv, spec, status)
    if not conv.threads:
        del s.conversations[conv.id]
        return last_problem or error("Could no create thread(s)", "threads")
    conv.customer_id = customer.id
    s.set_custom_fields(conv, data.get("customFields"))
    return ok(render.conversation(s, conv), 201, resource_id=conv.id)


async def update_conversation(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    s = sim.store
    conv = s.conversations.get(int(request.path_params["id"]))
    if conv is None:
        return not_found()
    for key, value in data.items():
        by = None
        if key in ("status", "assignTo", "mailboxId"):
            if not data.get("byUser"):
                return error("byUser parameter is required.", "byUser")
            if (by := s.users.get(to_int(data["byUser"]) or 0)) is None:
                return error("User not found.", "byUser")
        if key == "status" and by is not None:
            if s.change_status(conv, lenient(value, STATUSES, "active"), by, "api"):
                sim.emit("convo.status", conv)
        elif key == "assignTo" and by is not None:
            target = to_int(value) or 0
            assignee = s.users.get(target) if target > 0 else None
            if target > 0 and assignee is None:
                return error("User not found.", "assignTo")
            if s.assign(conv, assignee, by, "api") and assignee is not None:
                sim.emit("convo.assigned", conv)
        elif key == "mailboxId" and by is not None:
            target_mailbox = s.mailboxes.get(to_int(value) or 0)
            if conv.mailbox_id != to_int(value) and target_mailbox is None:
                return error("Mailbox not found.", "mailboxId")
            if target_mailbox is not None and s.move(conv, target_mailbox, by, "api"):
                sim.emit("convo.moved", conv)
        elif key == "customerId" and to_int(value) != conv.customer_id:
            if to_int(value) not in s.customers:
                return error("Customer not found.", "customerId")
            conv.customer_id = to_int(value) or conv.customer_id
        elif key == "subject" and (value or "") != conv.subject:
            conv.subject = str(value or "")
            conv.updated_at = s.now()
    return no_content()


async def delete_conversation(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    if sim.store.conversations.pop(int(request.path_params["id"]), None) is None:
        return not_found()
    return no_content()


async def update_custom_fields(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    conv = sim.store.conversations.get(int(request.path_params["id"]))
    if conv is None:
        return not_found()
    if (problem := missing(data, ("customFields",))) is not None:
        return problem
    sim.store.set_custom_fields(conv, data["customFields"])
    return no_content()


async def update_tags(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    conv = sim.store.conversations.get(int(request.path_params["id"]))
    if conv is None:
        return not_found()
    if (problem := missing(data, ("tags",))) is not None:
        return problem
    if not isinstance(data["tags"], list):
        return server_error()
    try:
        sim.store.set_tags(conv, data["tags"])
    except ValueError:
        return server_error()
    return no_content()


async def create_thread(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    conv = sim.store.conversations.get(int(request.path_params["id"]))
    if conv is None:
        return not_found()
    thread, problem = add_thread(sim, conv, data)
    if thread is None:
        return problem or error("Error occurred", "type")
    return ok(render.thread(sim.store, thread), 201, resource_id=thread.id)


ROUTES = [
    Route("/api/conversations", api(list_conversations), methods=["GET"]),
    Route("/api/conversations", api(create_conversation), methods=["POST"]),
    Route("/api/conversations/{id:int}", api(get_conversation), methods=["GET"]),
    Route("/api/conversations/{id:int}", api(update_conversation), methods=["PUT"]),
    Route("/api/conversations/{id:int}", api(delete_conversation), methods=["DELETE"]),
    Route("/api/conversations/{id:int}/custom_fields", api(update_custom_fields), methods=["PUT"]),
    Route("/api/conversations/{id:int}/tags", api(update_tags), methods=["PUT"]),
    Route("/api/conversations/{id:int}/threads", api(create_thread), methods=["POST"]),
]
