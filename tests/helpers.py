"""Shared test helpers: fixtures encoded the way FreeScout sends them, and signed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from bridge.signature import sign_freescout
from sandbox.phpjson import dumps as php_json

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "0123456789abcdef0123456789abcdef"


def fixture(name: str, **changes: Any) -> dict[str, Any]:
    """A FreeScout fixture body, with top-level fields replaced by ``changes``."""
    data: dict[str, Any] = json.loads((FIXTURES / "freescout" / name).read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data.update(changes)
    return data


def signed(body: dict[str, Any] | bytes, event: str, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    """The raw bytes and headers of a real-format delivery."""
    raw = body if isinstance(body, bytes) else php_json(body).encode("ascii")
    headers = {
        "Content-Type": "application/json",
        "X-FreeScout-Event": event,
        "X-FreeScout-Signature": sign_freescout(raw, secret),
        "User-Agent": "GuzzleHttp/6.5.5 curl/7.88.1 PHP/8.2.7",
    }
    return raw, headers
