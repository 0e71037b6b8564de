"""Tag, mailbox, user and webhook endpoints of the local FreeScout simulator's REST API."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox import freescout_render as render
from sandbox.freescout_http import (
    Data,
    PhpJSONResponse,
    api,
    error,
    missing,
    no_content,
    not_found,
    ok,
    page_args,
    to_int,
)
from sandbox.freescout_state import FreeScoutSim
from sandbox.freescout_webhooks import KNOWN_EVENTS


def _paged(key: str, items: list[dict[str, Any]], data: Data) -> Response:
    number, size = page_args(data)
    chunk = items[(number - 1) * size : number * size]
    return ok(render.page(key, chunk, number=number, size=size, total=len(items)))


async def list_tags(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    s = sim.store
    tags = sorted(s.tags.values(), key=lambda t: t.id)
    if data.get("conversationId"):
        conv = s.conversations.get(to_int(data["conversationId"]) or 0)
        tags = [t for t in tags if conv is not None and t.id in conv.tag_ids]
    return _paged("tags", [render.tag_full(s, t) for t in tags], data)


async def list_mailboxes(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    boxes = sorted(sim.store.mailboxes.values(), key=lambda m: m.id)
    return _paged("mailboxes", [render.mailbox(m) for m in boxes], data)


async def mailbox_custom_fields(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    mailbox_id = int(request.path_params["id"])
    if mailbox_id not in sim.store.mailboxes:
        return not_found()
    fields = [render.field_structure(f) for f in sim.store.mailbox_fields(mailbox_id)]
    return _paged("custom_fields", fields, data)


async def list_users(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    users = sorted(sim.store.users.values(), key=lambda u: u.id, reverse=True)
    if data.get("email"):
        users = [u for u in users if u.email == data["email"]]
    return _paged("users", [render.user_full(u) for u in users], data)


async def get_user(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    user = sim.store.users.get(int(request.path_params["id"]))
    return ok(render.user_full(user)) if user else not_found()


async def get_customer(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    customer = sim.store.customers.get(int(request.path_params["id"]))
    return ok(render.customer_full(sim.store, customer)) if customer else not_found()


async def create_webhook(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    if (problem := missing(data, ("url", "events"))) is not None:
        return problem
    url = data["url"]
    if not isinstance(url, str) or len(url) > 255 or not url.startswith(("http://", "https://")):
        return error("Invalid URL.", "url")
    raw = data["events"] if isinstance(data["events"], list) else []
    events = [e for e in raw if isinstance(e, str) and e in KNOWN_EVENTS]
    if not events:  # real 1.0.82: the generic error, with an empty error list
        return PhpJSONResponse({"message": "Error occurred", "_embedded": {"errors": []}}, status_code=400)
    hook = sim.hub.register(url, events)
    return ok(hook.to_json(), 201, resource_id=hook.id)


async def delete_webhook(request: Request, sim: FreeScoutSim, data: Data) -> Response:
    if sim.hub.webhooks.pop(int(request.path_params["id"]), None) is None:
        return not_found()
    return no_content()


ROUTES = [
    Route("/api/tags", api(list_tags), methods=["GET"]),
    Route("/api/mailboxes", api(list_mailboxes), methods=["GET"]),
    Route("/api/mailboxes/{id:int}/custom_fields", api(mailbox_custom_fields), methods=["GET"]),
    Route("/api/users", api(list_users), methods=["GET"]),
    Route("/api/users/{id:int}", api(get_user), methods=["GET"]),
    Route("/api/customers/{id:int}", api(get_customer), methods=["GET"]),
    Route("/api/webhooks", api(create_webhook), methods=["POST"]),
    Route("/api/webhooks/{id:int}", api(delete_webhook), methods=["DELETE"]),
]
