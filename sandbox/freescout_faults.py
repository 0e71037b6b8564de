"""Fault injection for the local FreeScout simulator's REST API, switchable per test.

The same mechanism as the GitHub simulator (``github_faults.py``; storage and matching are shared in
``sandbox.faults``): a JSON spec posted to ``POST /_sim/faults``::

    {"method": "PUT", "path": "/custom_fields$", "kind": "status", "status": 503, "times": 2}

``GET /_sim/faults`` lists the faults with how often each was seen and fired, ``DELETE /_sim/faults``
clears them. Only ``/api/...`` requests are affected, never the ``/_sim`` control plane and never the
webhooks the simulator sends. Kinds and their extra fields:

- ``status``: answer ``status`` (default 500) with ``body`` (default Laravel's ``{"message": "Server
  Error"}``); nothing is performed.
- ``lost_response``: perform the request, then close the connection without answering.
- ``reset``: reset the connection without answering; nothing is performed.
- ``slow``: wait ``delay`` seconds (default 1.0), then perform the request and answer normally (a client
  that gave up meanwhile does not stop the write, as with PHP behind a proxy).
- ``rate_429``: 429 from a proxy or WAF in front of FreeScout (the application has no throttle), with
  ``Retry-After`` only if ``retry_after`` is given; nothing is performed.
- ``hang``: perform the request, then hold the answer for ``delay`` seconds before sending it. Used to
  stop a client at a precise point *after* a write landed (for example to kill it there).
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox import faults
from sandbox.asgi import FAULT_KEY, drop_connection, parse_json_bytes
from sandbox.faults import Fault
from sandbox.freescout_http import PhpJSONResponse

KINDS = ("status", "lost_response", "reset", "slow", "rate_429", "hang")
API_PREFIX = "/api/"


class FreeScoutFaults(faults.FaultSet):
    """The FreeScout simulator's faults (see the module docstring for the kinds)."""

    def __init__(self) -> None:
        super().__init__(KINDS)


def _phrase(status: int) -> str:
    phrases = {500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    return phrases.get(status, f"HTTP {status}")


class FaultGate:
    """ASGI middleware applying a matching fault to an ``/api/...`` request."""

    def __init__(self, app: ASGIApp, faults: FreeScoutFaults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        fault = None
        if scope["type"] == "http" and path.startswith(API_PREFIX):
            fault = self.faults.match(str(scope["method"]), path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        scope[FAULT_KEY] = fault.to_json()
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            await self.app(scope, receive, send)
        elif fault.kind == "reset":
            if not await drop_connection(scope, abort=True):
                await PhpJSONResponse({"message": "Bad Gateway"}, status_code=502)(scope, receive, send)
        elif fault.kind in ("lost_response", "hang"):
            await self._perform_then(fault, scope, receive, send)
        else:
            await self._reply(fault)(scope, receive, send)

    async def _perform_then(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the endpoint with its answer held back; then drop the connection or send it late."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        status = next((int(m["status"]) for m in held if m["type"] == "http.response.start"), None)
        scope[FAULT_KEY]["hidden_status"] = status
        if fault.kind == "hang":
            await asyncio.sleep(fault.delay)
            for message in held:
                await send(message)
        elif not await drop_connection(scope, abort=False):
            await PhpJSONResponse({"message": "Bad Gateway"}, status_code=502)(scope, receive, send)

    @staticmethod
    def _reply(fault: Fault) -> Response:
        if fault.kind == "rate_429":
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            return PhpJSONResponse({"message": "Too Many Attempts."}, status_code=429, headers=headers)
        body = fault.body if fault.body is not None else {"message": _phrase(fault.status)}
        return PhpJSONResponse(body, status_code=fault.status)


async def faults_endpoint(request: Request) -> Response:
    """``POST`` one spec or a list, ``GET`` the registered faults, ``DELETE`` them all."""
    registry: FreeScoutFaults = request.app.state.faults
    if request.method == "DELETE":
        registry.clear()
        return Response(status_code=204)
    if request.method == "GET":
        return JSONResponse({"faults": registry.to_json()})
    spec = parse_json_bytes(await request.body())
    specs = spec if isinstance(spec, list) else [spec]
    try:
        added = [registry.add(s if isinstance(s, dict) else {}) for s in specs]
    except (ValueError, TypeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    body = [f.to_json() for f in added]
    return JSONResponse(body if isinstance(spec, list) else body[0], status_code=201)


ROUTES = [Route("/_sim/faults", faults_endpoint, methods=["GET", "POST", "DELETE"])]
