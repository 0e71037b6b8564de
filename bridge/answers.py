"""JSON answers and the admin-token check, shared by the webhook, operator and admin endpoints.

One place renders every JSON body (``{"error", "message"}`` for refusals) and compares the bearer token,
so the webhook routes, ``/metrics``, ``/readyz`` and ``/admin/sweep`` answer alike.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from bridge.settings import Secret


def json_response(
    payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON answer rendered by orjson; ``json`` takes what orjson refuses (a lone surrogate)."""
    try:
        body = orjson.dumps(payload)
    except TypeError:
        body = json.dumps(payload).encode()
    return Response(body, status, headers, media_type="application/json")


def error_body(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": error, "message": message}, status, headers)


def bearer_matches(token: Secret, request: Request) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time."""
    given = request.headers.get("authorization", "").encode()
    return hmac.compare_digest(given, ("Bearer " + token.reveal()).encode())


def unauthorised() -> Response:
    return error_body(
        401,
        "unauthorised",
        "this endpoint needs Authorization: Bearer $BRIDGE_ADMIN_TOKEN",
        {"WWW-Authenticate": "Bearer"},
    )
