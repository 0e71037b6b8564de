"""Slow and oversized clients against the real server: the Procfile's uvicorn command, in a subprocess.

A body that trickles past ``[limits] body_read_timeout_seconds`` gets 408; a body over ``max_body_bytes``
gets 413 whether its size is declared (Content-Length) or only discovered (chunked). Both carry the JSON
refusal body. Timing is measured in ``bench/``, not here: these tests check behaviour only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hardening.raw_http import RawResponse, raw_exchange
from tests.harness import Bridge, FreeScout, deployment_env
from tests.helpers import fixture, signed

pytestmark = pytest.mark.e2e
LIMIT = 64 * 1024
PATH = "/api/webhooks/freescout/support"


@pytest.fixture(scope="module", params=["procfile", "h11", "httptools"])
def bridge(
    request: pytest.FixtureRequest, freescout: FreeScout, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bridge]:
    """The Procfile's command as is, then forced onto each HTTP parser uvicorn can use."""
    tmp = tmp_path_factory.mktemp("slow")
    config = tmp / "bridge.toml"
    config.write_text(f"[limits]\nmax_body_bytes = {LIMIT}\nbody_read_timeout_seconds = 1.0\n")
    env = deployment_env(freescout.url, BRIDGE_CONFIG=str(config))
    extra = [] if request.param == "procfile" else ["--http", request.param]
    with Bridge(env, tmp / "bridge.log", procfile=True, extra=extra) as running:
        yield running


def head(content_length: int | None = None, *, chunked: bool = False, event: str = "convo.created") -> bytes:
    lines = [
        f"POST {PATH} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"X-FreeScout-Event: {event}",
    ]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def refused(response: RawResponse, status: int, error: str) -> None:
    assert response.status == status, response
    assert response.headers["content-type"].startswith("application/json")
    body = json.loads(response.body)
    assert set(body) == {"error", "message"} and body["error"] == error, body


def test_a_body_trickling_past_the_deadline_gets_408(bridge: Bridge) -> None:
    raw, _ = signed(fixture("convo.created.json"), "convo.created")
    trickle = [raw[i : i + 1] for i in range(len(raw))]  # one byte every 0.2 s: ~5 minutes in total
    refused(raw_exchange(bridge.port, head(len(raw)), trickle, pause=0.2), 408, "body_timeout")


def test_a_client_that_stalls_after_the_headers_gets_408(bridge: Bridge) -> None:
    refused(raw_exchange(bridge.port, head(1000) + b'{"id":'), 408, "body_timeout")


def test_a_chunked_body_that_trickles_gets_408(bridge: Bridge) -> None:
    chunks = [b"1\r\n{\r\n"] * 200
    refused(raw_exchange(bridge.port, head(chunked=True), chunks, pause=0.2), 408, "body_timeout")


def test_a_declared_oversized_body_gets_413_before_it_is_sent(bridge: Bridge) -> None:
    refused(raw_exchange(bridge.port, head(100 * 1024 * 1024)), 413, "body_too_large")


def test_a_chunked_body_without_length_gets_413_once_it_passes_the_limit(bridge: Bridge) -> None:
    piece = b"x" * 8192
    chunks = [b"%x\r\n" % len(piece) + piece + b"\r\n"] * (4 * LIMIT // len(piece))
    refused(raw_exchange(bridge.port, head(chunked=True), chunks), 413, "body_too_large")


def test_a_body_just_over_the_limit_gets_413_and_one_at_the_limit_is_read(bridge: Bridge) -> None:
    refused(raw_exchange(bridge.port, head(LIMIT + 1), [b"x" * (LIMIT + 1)]), 413, "body_too_large")
    at_limit = raw_exchange(bridge.port, head(LIMIT), [b"x" * LIMIT])
    refused(at_limit, 401, "invalid_signature")  # read in full, then refused for its missing signature


def test_h11_caps_the_header_block(bridge: Bridge, request: pytest.FixtureRequest) -> None:
    """With h11, uvicorn refuses a 1 MiB header block before the app runs (httptools would buffer it all).

    The cap bounds the *unparsed* buffer: a head that arrives whole in one read is parsed even when it is
    over the cap, so the test uses a size that cannot arrive in one read.
    """
    parser = request.node.callspec.params["bridge"]
    if parser == "procfile":
        args = bridge.args
        parser = args[args.index("--http") + 1] if "--http" in args else "auto"
    if parser != "h11":
        pytest.skip(
            "uvicorn sets no header-size cap for httptools: the reverse proxy enforces it (bench/README.md)"
        )
    before = bridge.output().count('"msg": "delivery"')
    big = head(10)[:-2] + b"X-Padding: " + b"a" * (1024 * 1024) + b"\r\n\r\n"
    try:
        answer: RawResponse | None = raw_exchange(bridge.port, big, [b"{}" + b" " * 8])
    except (AssertionError, ConnectionResetError):
        answer = None  # closed without an answer: also a refusal
    assert answer is None or 400 <= answer.status < 500
    assert bridge.output().count('"msg": "delivery"') == before  # the app never saw it


def test_the_server_still_answers_normally_afterwards(bridge: Bridge, tmp_path: Path) -> None:
    raw, headers = signed(fixture("convo.created.json", mailboxId=2, id=999_999), "convo.created")
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(raw)}\r\n{lines}\r\n".encode()
    response = raw_exchange(bridge.port, request, [raw])
    assert response.status == 200 and json.loads(response.body)["reason"] == "conversation_not_found"
    assert "Traceback" not in bridge.output()
