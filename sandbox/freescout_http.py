"""HTTP helpers of the local FreeScout simulator: PHP-style JSON, errors, auth, input."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox import phpjson
from sandbox.asgi import parse_json_bytes
from sandbox.freescout_state import FreeScoutSim

Data = dict[str, Any]
Handler = Callable[[Request, FreeScoutSim, Data], Awaitable[Response]]
NOT_FOUND = {"message": "Not Found", "_embedded": {"errors": []}}


class PhpJSONResponse(Response):
    """Laravel's ``Response::json``: PHP ``json_encode`` with default flags."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return phpjson.dumps_bytes(content)


def ok(content: Any, status: int = 200, resource_id: int | None = None) -> Response:
    headers = {"Resource-ID": str(resource_id)} if resource_id is not None else None
    return PhpJSONResponse(content, status_code=status, headers=headers)


def no_content() -> Response:
    """Laravel's empty answer: 204 with PHP's default ``Content-Type`` (seen on the real 1.0.82)."""
    return Response(status_code=204, headers={"Content-Type": "text/html; charset=UTF-8"})


def not_found() -> Response:
    return PhpJSONResponse(NOT_FOUND, status_code=404)


def error(message: str, path: str) -> Response:
    """The module's 400 body: one entry in ``_embedded.errors``."""
    errors = [{"path": path, "message": message, "source": "JSON"}]
    return PhpJSONResponse({"message": "Error occurred", "_embedded": {"errors": errors}}, status_code=400)


def missing(data: Data, names: tuple[str, ...]) -> Response | None:
    """``checkRequiredParams``: 400 listing every required parameter that is absent/null."""
    absent = [n for n in names if data.get(n) is None]
    if not absent:
        return None
    errors = [{"path": n, "message": f"`{n}` parameter is required", "source": "JSON"} for n in absent]
    return PhpJSONResponse({"message": "Error occurred", "_embedded": {"errors": errors}}, status_code=400)


def server_error() -> Response:
    return PhpJSONResponse({"message": "Server Error"}, status_code=500)


def rewrite(value: Any) -> Any:
    """Laravel TrimStrings + ConvertEmptyStringsToNull, applied recursively."""
    if isinstance(value, str):
        trimmed = value.strip()
        return trimmed or None
    if isinstance(value, dict):
        return {k: rewrite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rewrite(v) for v in value]
    return value


def to_int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def page_args(data: Data) -> tuple[int, int]:
    page = to_int(data.get("page")) or 1
    size = to_int(data.get("pageSize")) or 50
    return max(page, 1), max(size, 1)


def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with the module's auth middleware and Laravel's input handling.

    The body is parsed only when ``Content-Type`` is JSON (as in Laravel); query and
    body are merged like ``$request->all()`` (body wins), then rewritten.
    """

    async def endpoint(request: Request) -> Response:
        sim: FreeScoutSim = request.app.state.sim
        data: Data = dict(request.query_params)
        if "json" in request.headers.get("content-type", ""):
            body = parse_json_bytes(await request.body())
            if isinstance(body, dict):
                data.update(body)
        data = rewrite(data)
        key = request.headers.get("x-freescout-api-key") or data.pop("api_key", None)
        data.pop("api_key", None)
        if not isinstance(key, str) or not hmac.compare_digest(key.encode(), sim.config.api_key.encode()):
            return PhpJSONResponse({"message": "Not Authorized"}, status_code=401)
        return await handler(request, sim, data)

    return endpoint
