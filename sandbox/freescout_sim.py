"""Local FreeScout simulator (API & Webhooks module), as a Starlette app.

This is a **local simulator** for tests and demos, not FreeScout. It follows
docs/upstream/freescout.md: the REST API under ``/api`` (API key auth, Laravel input
rewriting, PHP-style JSON), webhooks delivered asynchronously with HMAC-SHA1 signatures
and retries, and a key-less control plane under ``/_sim`` to play customers and agents
and to inspect deliveries, recorded requests and state. ``/_sim/faults`` injects faults
into the ``/api`` routes (``freescout_faults.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sandbox import freescout_api, freescout_api_misc, freescout_control, freescout_faults
from sandbox.asgi import RecorderMiddleware, SimStarlette, parse_json_bytes, recorded_requests
from sandbox.freescout_faults import FaultGate, FreeScoutFaults
from sandbox.freescout_http import PhpJSONResponse
from sandbox.freescout_state import DEFAULT_RETRY_DELAYS, FreeScoutSim, FreeScoutSimConfig

__all__ = ["DEFAULT_RETRY_DELAYS", "FreeScoutSim", "FreeScoutSimConfig", "create_app"]


async def _json(request: Request) -> dict[str, Any]:
    parsed = parse_json_bytes(await request.body())
    return parsed if isinstance(parsed, dict) else {}


def _sim(request: Request) -> FreeScoutSim:
    sim: FreeScoutSim = request.app.state.sim
    return sim


async def register_webhook(request: Request) -> Response:
    body = await _json(request)
    if not isinstance(body.get("url"), str) or not isinstance(body.get("events"), list):
        return JSONResponse({"error": "url and events are required"}, status_code=400)
    mailboxes = [int(m) for m in body["mailboxes"]] if body.get("mailboxes") else None
    hook = _sim(request).hub.register(body["url"], [str(e) for e in body["events"]], mailboxes)
    return JSONResponse({**hook.to_json(), "mailboxes": hook.mailboxes}, status_code=201)


async def list_webhooks(request: Request) -> Response:
    hooks = _sim(request).hub.webhooks.values()
    return JSONResponse({"webhooks": [{**h.to_json(), "mailboxes": h.mailboxes} for h in hooks]})


async def deliveries(request: Request) -> Response:
    return JSONResponse({"deliveries": _sim(request).hub.deliveries})


async def redeliver(request: Request) -> Response:
    body = await _json(request)
    entry = await _sim(request).hub.redeliver(int(body.get("index", -1)))
    if entry is None:
        return JSONResponse({"error": "no such delivery index"}, status_code=404)
    return JSONResponse(entry)


async def wait_idle(request: Request) -> Response:
    body = await _json(request)
    hub = _sim(request).hub
    idle = await hub.wait_idle(float(body.get("timeout", 10)))
    return JSONResponse({"idle": idle, "pending": hub.pending()}, status_code=200 if idle else 504)


async def state(request: Request) -> Response:
    return JSONResponse(_sim(request).state_dump())


async def reset(request: Request) -> Response:
    _sim(request).reset()
    request.app.state.faults.clear()
    return Response(status_code=204)


CONTROL_ROUTES = [
    Route("/_sim/webhooks", register_webhook, methods=["POST"]),
    Route("/_sim/webhooks", list_webhooks, methods=["GET"]),
    Route("/_sim/deliveries", deliveries, methods=["GET"]),
    Route("/_sim/redeliver", redeliver, methods=["POST"]),
    Route("/_sim/wait-idle", wait_idle, methods=["POST"]),
    Route("/_sim/requests", recorded_requests, methods=["GET", "DELETE"]),
    Route("/_sim/state", state, methods=["GET"]),
    Route("/_sim/reset", reset, methods=["POST"]),
]


async def _http_error(request: Request, exc: Exception) -> Response:
    """Framework-level errors: HTML unless the client asked for JSON (like Laravel)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return PhpJSONResponse("Method Not Allowed", status_code=405)
    if "json" in request.headers.get("accept", ""):
        return PhpJSONResponse({"message": exc.detail}, status_code=exc.status_code)
    page = f"<!DOCTYPE html><html><body><h1>{exc.status_code} {exc.detail}</h1></body></html>"
    return HTMLResponse(page, status_code=exc.status_code)


def create_app(config: FreeScoutSimConfig | None = None) -> Starlette:
    """Build the local FreeScout simulator; ``app.state.sim`` is its :class:`FreeScoutSim`."""
    sim = FreeScoutSim(config or FreeScoutSimConfig())
    faults = FreeScoutFaults()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sim.hub.start()
        try:
            yield
        finally:
            await sim.hub.stop()

    app = SimStarlette(
        routes=[
            *freescout_api.ROUTES,
            *freescout_api_misc.ROUTES,
            *freescout_control.ROUTES,
            *freescout_faults.ROUTES,
            *CONTROL_ROUTES,
        ],
        middleware=[
            Middleware(
                RecorderMiddleware,
                log=sim.requests,
                secret_headers=("authorization", "x-freescout-api-key"),
                secret_query=("api_key",),
            ),
            Middleware(FaultGate, faults=faults),
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.sim = sim
    app.state.faults = faults
    return app
