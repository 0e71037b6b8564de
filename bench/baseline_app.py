"""The baseline: a bare Starlette endpoint that reads the body and answers 200, nothing else.

Run under exactly the same uvicorn flags as the bridge so the ratio isolates the bridge's own work.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def webhook(request: Request) -> Response:
    await request.body()
    return Response(b'{"outcome":"ok"}', media_type="application/json")


def create_app() -> Starlette:
    return Starlette(routes=[Route("/api/webhooks/freescout/{route}", webhook, methods=["POST"])])
