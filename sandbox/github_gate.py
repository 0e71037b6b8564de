"""Front door of the local GitHub simulator's REST API: auth, rate limits, faults.

Pure ASGI middleware so it can hold back, replace or drop a response. Order per request:
authenticate, count against the primary budget, catch writes sent inside a wait window
(violations), apply an injected fault, enforce the secondary content limit, then run the
endpoint with ``x-ratelimit-*`` headers added to its response.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.asgi import FAULT_KEY, drop_connection
from sandbox.github_auth import Identity
from sandbox.github_faults import Fault
from sandbox.github_limits import PRIMARY_MESSAGE, SECONDARY_MESSAGE
from sandbox.github_state import GitHubSim

DOCS = "https://docs.github.com/rest"
CONTENT_PATHS = re.compile(r"^/repos/[^/]+/[^/]+/issues(/\d+/comments)?/?$")
APP_PATHS = re.compile(r"^/app/|^/repos/[^/]+/[^/]+/installation/?$")
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def error_body(message: str, status: int, docs: str = DOCS) -> dict[str, Any]:
    return {"message": message, "documentation_url": docs, "status": str(status)}


class GitHubGate:
    def __init__(self, app: ASGIApp, sim: GitHubSim) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        sim, limits = self.sim, self.sim.limits
        method, path = str(scope["method"]), str(scope["path"])
        limits.stats.requests += 1
        headers = Headers(scope=scope)
        identity = sim.credentials.identify(headers.get("authorization"))
        counted = path != "/rate_limit"  # GET /rate_limit costs no primary quota
        rl, exhausted = limits.consume(identity.key if identity else "anonymous", count=counted)
        rl["x-github-api-version-selected"] = headers.get("x-github-api-version") or "2022-11-28"
        reply = _Replier(scope, receive, send, rl)
        if identity is None or (identity.kind == "app") != bool(APP_PATHS.search(path)):
            await reply(401, error_body("Bad credentials", 401))
            return
        scope["sandbox.identity"] = identity
        if exhausted:
            limits.stats.primary_limited += 1
            await reply(403, error_body(PRIMARY_MESSAGE.format(uid=identity.actor.id), 403))
            return
        if method in WRITE_METHODS and (wait := limits.note_write(method, path)) is not None:
            limits.stats.secondary_limited += 1
            await reply(403, error_body(SECONDARY_MESSAGE, 403), {"retry-after": str(wait)})
            return
        fault = sim.faults.match(method, path)
        if fault is not None:
            limits.stats.faults_fired += 1
            scope[FAULT_KEY] = fault.to_json()
            if await self._immediate_fault(fault, scope, identity, reply):
                return
        content = method == "POST" and bool(CONTENT_PATHS.match(path))
        if content and (retry_after := limits.content_retry_after()) is not None:
            limits.block(retry_after)
            limits.stats.secondary_limited += 1
            await reply(403, error_body(SECONDARY_MESSAGE, 403), {"retry-after": str(retry_after)})
            return
        lost = fault is not None and fault.kind == "lost_response"
        hang = fault is not None and fault.kind == "hang"
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        status = await self._run(scope, receive, hold if hang else None if lost else send, rl)
        if content and status == 201:
            limits.record_content()
        if hang and fault is not None:
            await asyncio.sleep(fault.delay)  # stored already; the answer comes late
            for message in held:
                await send(message)
        if lost:
            scope[FAULT_KEY]["hidden_status"] = status
            if not await drop_connection(scope, abort=False):
                await reply(502, error_body("Bad Gateway", 502))

    async def _immediate_fault(self, fault: Fault, scope: Scope, identity: Identity, reply: _Replier) -> bool:
        """Apply a fault that replaces the answer; True if the request is finished."""
        limits = self.sim.limits
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return False
        if fault.kind in ("lost_response", "hang"):
            return False
        if fault.kind == "reset":
            if not await drop_connection(scope, abort=True):
                await reply(502, error_body("Bad Gateway", 502))
            return True
        extra: dict[str, str] = {}
        if fault.kind == "status":
            body = fault.body if fault.body is not None else error_body(_phrase(fault.status), fault.status)
            await reply(fault.status, body)
            return True
        if fault.retry_after is not None:
            extra["retry-after"] = str(fault.retry_after)
            limits.block(fault.retry_after)
        if fault.kind == "secondary_limit":
            limits.stats.secondary_limited += 1
            await reply(403, error_body(SECONDARY_MESSAGE, 403), extra)
        elif fault.kind == "rate_429":
            limits.stats.rate_limited_429 += 1
            await reply(429, error_body("Too Many Requests", 429), extra)
        else:  # primary_limit
            limits.stats.primary_limited += 1
            limits.block(fault.reset_in)
            extra.update(limits.primary_headers(identity.key, fault.reset_in))
            await reply(403, error_body(PRIMARY_MESSAGE.format(uid=identity.actor.id), 403), extra)
        return True

    async def _run(self, scope: Scope, receive: Receive, send: Send | None, rl: dict[str, str]) -> int | None:
        """Run the endpoint; ``send=None`` swallows the response (for lost_response)."""
        status: int | None = None

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []), *_encode(rl)]}
            if send is not None:
                await send(message)

        await self.app(scope, receive, send_wrapper)
        return status


def _encode(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def _phrase(status: int) -> str:
    phrases = {500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    return phrases.get(status, f"HTTP {status}")


class _Replier:
    """Send a JSON error answer with the rate-limit headers of this request."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, rl: dict[str, str]) -> None:
        self.scope, self.receive, self.send, self.rl = scope, receive, send, rl

    async def __call__(self, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
        headers = {**self.rl, **(extra or {})}
        await JSONResponse(body, status_code=status, headers=headers)(self.scope, self.receive, self.send)
