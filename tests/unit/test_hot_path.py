"""The hot path's fast pieces decide exactly what their standard-library counterparts decided.

orjson decodes bodies and renders log lines because it is several times faster (bench/README.md); these
tests pin that it never changes what is accepted, what a value decodes to, or what a log line looks like.
"""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
import structlog
from starlette.requests import Request

from bridge import logs
from bridge.app import RequestError, _error_response, parse_json, read_body
from bridge.signature import SignatureError, Verifier, sign_freescout

BODIES = [
    b'{"id": 18446744073709551616}',  # beyond 64 bits: orjson alone would give a float
    b'{"id": -9223372036854775809, "n": 12345678901234567890123}',
    b'{"subject": "\\ud800 lone"}',  # a lone surrogate escape: json accepts it
    b'{"a": NaN, "b": Infinity, "c": 1e400}',
    b'{"a": 1, "a": 2}',  # duplicate keys: the last wins
    '{"text": "caf\u00e9 \u05e9\u05dc\u05d5\u05dd"}'.encode("utf-16"),  # json detects UTF-16
    '\ufeff{"a": 1}'.encode(),  # a BOM: both refuse
    b'{"body": "<p>PHP escapes \\/ and \\u00e9<\\/p>"}',
    b"[" * 5000 + b"]" * 5000,  # deeper than either parser goes
    b"\xff\xfe\x00",
    b"",
]


def stdlib(raw: bytes) -> tuple[str, Any]:
    try:
        return "ok", json.loads(raw)
    except (ValueError, RecursionError):
        return "refused", None


def ours(raw: bytes) -> tuple[str, Any]:
    try:
        return "ok", parse_json(raw)
    except RequestError as exc:
        assert (exc.status, exc.error) == (400, "invalid_json")
        return "refused", None


@pytest.mark.parametrize("raw", BODIES, ids=range(len(BODIES)))
def test_parse_json_accepts_and_decodes_exactly_what_json_loads_does(raw: bytes) -> None:
    expected, got = stdlib(raw), ours(raw)
    assert got[0] == expected[0]
    # repr: NaN != NaN, and an int must stay an int (1.8446744073709552e+19 == 2**64 is True).
    assert repr(got[1]) == repr(expected[1])


def test_a_log_line_is_ascii_json_even_for_text_orjson_would_write_raw() -> None:
    out = io.StringIO()
    before = structlog.get_config()
    logs.configure((), "INFO", out)
    try:
        structlog.get_logger("t").info("delivery", _event="convo.created", subject="café 🎉 \ud800", n=2**70)
    finally:
        structlog.configure(**before)
    line = out.getvalue().strip()
    assert line.isascii()
    parsed = json.loads(line)
    assert parsed["subject"] == "café 🎉 \ud800" and parsed["n"] == 2**70
    assert (parsed["msg"], parsed["event"], parsed["level"]) == ("delivery", "convo.created", "info")
    assert parsed["timestamp"].endswith("Z") and len(parsed["timestamp"]) == len(
        "2026-11-25T19:15:00.123456Z"
    )


def test_a_prepared_verifier_stays_correct_across_many_bodies_and_secrets() -> None:
    verifier = Verifier(["old-secret-value", "new-secret-value"])
    for n in range(50):
        body = f'{{"id": {n}}}'.encode()
        verifier.verify(body, sign_freescout(body, "new-secret-value" if n % 2 else "old-secret-value"))
        with pytest.raises(SignatureError) as refused:
            verifier.verify(body, sign_freescout(body + b" ", "new-secret-value"))
        assert refused.value.reason == "signature_mismatch"
    with pytest.raises(SignatureError) as empty:
        Verifier(["", ""]).verify(b"{}", sign_freescout(b"{}", "x"))
    assert empty.value.reason == "no_secret_configured"


def _request(messages: list[dict[str, Any]]) -> Request:
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # a client that stops sending
        return {"type": "http.disconnect"}

    return Request(scope, receive)


def test_read_body_joins_chunks_and_times_out_a_trickle_with_408() -> None:
    async def scenario() -> None:
        chunks = [{"type": "http.request", "body": b"ab", "more_body": True}]
        chunks.append({"type": "http.request", "body": b"cd", "more_body": False})
        assert await read_body(_request(chunks), limit=10, timeout=5) == b"abcd"
        with pytest.raises(RequestError) as slow:
            await read_body(_request([{"type": "http.request", "body": b"a", "more_body": True}]), 10, 0.05)
        assert (slow.value.status, slow.value.error) == (408, "body_timeout")
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0  # our own cancellation was taken back

    asyncio.run(scenario())


def test_an_outside_cancellation_is_not_mistaken_for_a_slow_body() -> None:
    async def scenario() -> None:
        reading = asyncio.create_task(read_body(_request([]), limit=10, timeout=5))
        await asyncio.sleep(0.01)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading

    asyncio.run(scenario())


def test_a_client_that_disconnects_is_answered_and_logged_not_a_500() -> None:
    async def scenario() -> None:
        from starlette.requests import ClientDisconnect

        with pytest.raises(ClientDisconnect) as gone:
            await read_body(_request([{"type": "http.disconnect"}]), limit=10, timeout=5)
        response, outcome, reason = _error_response(gone.value)
        assert (response.status_code, outcome, reason) == (400, "refused", "client_disconnected")
        assert json.loads(bytes(response.body))["error"] == "client_disconnected"

    asyncio.run(scenario())
