"""ASGI plumbing shared by the local simulators: request recording and connection drops."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

RAW_SEND_KEY = "sandbox.raw_send"
FAULT_KEY = "sandbox.fault"  # set by a fault injector; copied into the recorded entry
REDACTED = "<redacted>"


class SimStarlette(Starlette):
    """Starlette that keeps the server's own ``send`` in the scope.

    Starlette's error middleware wraps ``send``; the fault injector needs the server's
    original one to reach the connection's transport and drop it without answering.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RAW_SEND_KEY] = send
        await super().__call__(scope, receive, send)


async def drop_connection(scope: Scope, *, abort: bool) -> bool:
    """Close the client connection without a response; False if the server hides it.

    ``abort=True`` resets the connection (RST), otherwise it is closed (FIN). Works with
    uvicorn's h11 and httptools protocols, whose ``send`` is a bound method of a cycle
    object holding ``transport``.
    """
    cycle = getattr(scope.get(RAW_SEND_KEY), "__self__", None)
    transport = getattr(cycle, "transport", None)
    if not isinstance(transport, asyncio.Transport):
        return False
    if abort:
        transport.abort()
    else:
        transport.close()
    for _ in range(50):
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0)
    return True


async def recorded_requests(request: Request) -> Response:
    """``GET /_sim/requests``: what the simulator received, oldest first; ``DELETE`` forgets it."""
    log: RequestLog = request.app.state.sim.requests
    if request.method == "DELETE":
        log.clear()
        return Response(status_code=204)
    return JSONResponse({"requests": log.snapshot()})


class RequestLog:
    """Thread-safe list of recorded requests (``GET /_sim/requests``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry["index"] = len(self._entries)
            self._entries.append(entry)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def parse_json_bytes(body: bytes) -> Any:
    """Parsed JSON or None for an empty or non-JSON body."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _redacted_headers(raw: Iterable[tuple[bytes, bytes]], secret_headers: frozenset[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key_b, value_b in raw:
        key = key_b.decode("latin-1").lower()
        value = value_b.decode("latin-1")
        headers[key] = REDACTED if key in secret_headers else value
    return headers


class RecorderMiddleware:
    """Record every request (except control-plane paths) with the status it got.

    Each entry: ``method, path, query, headers`` (auth values redacted, also a
    ``secret_query`` key inside a JSON body), ``json`` (parsed
    body or None), ``body`` (raw text), ``status`` (None when the connection was dropped),
    ``response_headers``, ``response`` (parsed JSON answer or None), ``at`` (epoch
    seconds) and, when a fault was injected, ``fault``.
    """

    def __init__(
        self,
        app: ASGIApp,
        log: RequestLog,
        *,
        secret_headers: Iterable[str] = ("authorization",),
        secret_query: Iterable[str] = (),
        skip_prefix: str = "/_sim",
    ) -> None:
        self.app = app
        self.log = log
        self.secret_headers = frozenset(h.lower() for h in secret_headers)
        self.secret_query = frozenset(secret_query)
        self.skip_prefix = skip_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith(self.skip_prefix):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        query_string = scope.get("query_string", b"").decode("latin-1")
        query = {k: (REDACTED if k in self.secret_query else v) for k, v in parse_qsl(query_string, True)}
        parsed = parse_json_bytes(body)
        text = body.decode("utf-8", "replace")
        if isinstance(parsed, dict) and self.secret_query.intersection(parsed):
            parsed = {k: (REDACTED if k in self.secret_query else v) for k, v in parsed.items()}
            text = json.dumps(parsed)
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "query": query,
            "headers": _redacted_headers(scope["headers"], self.secret_headers),
            "json": parsed,
            "body": text,
            "status": None,
            "at": time.time(),
        }
        self.log.add(entry)

        chunks: list[bytes] = []

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = int(message["status"])
                entry["response_headers"] = _redacted_headers(message.get("headers", []), frozenset())
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, replay_receive(body, receive), send_wrapper)
        entry["response"] = parse_json_bytes(b"".join(chunks))
        if FAULT_KEY in scope:
            entry["fault"] = scope[FAULT_KEY]


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay_receive(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out ``body`` once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
