"""The real Starlette app under random deliveries, with a healthy FreeScout simulator behind it.

Properties: no answer in the 5xx range; no upstream request from a delivery without a valid signature;
every refusal is ``{"error", "message"}``; a validly signed random body is refused (4xx) or ignored (2xx).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from bridge.app import RequestError, create_app, read_body
from bridge.signature import sign_freescout
from sandbox.serve import ServerThread
from tests.doubles import FakeGitHub
from tests.hardening.conftest import assert_refusal, bridge_settings, loopback_client
from tests.hardening.strategies import HOSTILE_BODIES, event_names, fuzz, mutated_conversations, raw_bodies
from tests.harness import FreeScout
from tests.helpers import SECRET, signed

ROUTE = "/api/webhooks/freescout/support"
LIMIT = 64 * 1024
# Header values as they can arrive on the wire: latin-1, no control characters, no outer whitespace.
latin1 = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
).map(str.strip)


def header_value(text: str) -> bytes:
    return text.strip(" \t").encode("latin-1", "replace")


class Harness:
    def __init__(self, client: httpx.Client, freescout: FreeScout, github: FakeGitHub, seeded: list[int]):
        self.client, self.freescout, self.github, self.seeded = client, freescout, github, seeded


@pytest.fixture(scope="module")
def harness(freescout: FreeScout) -> Iterator[Harness]:
    seeded = [
        freescout.post(
            "/_sim/conversations",
            {
                "mailboxId": box,
                "customerEmail": f"fuzz{box}@example.com",
                "subject": "hi",
                "body": "<p>x</p>",
            },
        )["id"]
        for box in (1, 2, 3)
    ]
    github = FakeGitHub()
    app = create_app(bridge_settings(freescout.url, max_body_bytes=LIMIT), github=github)  # type: ignore[arg-type]
    with ServerThread(app) as server, loopback_client(server.url) as client:
        freescout.clear_requests()  # the start-up mailbox list is the only call allowed
        yield Harness(client, freescout, github, seeded)


def post(h: Harness, body: bytes, headers: dict[str, Any], path: str = ROUTE) -> Any:
    return h.client.post(path, content=body, headers=headers)


def wrong_signatures(body: bytes) -> st.SearchStrategy[str | None]:
    good = sign_freescout(body, SECRET)
    return st.sampled_from(
        [
            None,
            "",
            "   ",
            sign_freescout(body, "another-secret"),
            sign_freescout(body + b"\n", SECRET),
            good.lower() if good.lower() != good else good[::-1],
            good[:-2],
            "sha1=" + good,
            "sha256=" + "0" * 64,
            "0" * 64,
        ]
    ) | latin1.filter(lambda s: s != good)


@st.composite
def unsigned_deliveries(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    body = draw(raw_bodies)
    headers: dict[str, Any] = {
        "X-FreeScout-Event": header_value(draw(event_names)),
        "Content-Type": draw(st.sampled_from(["application/json", "application/hal+json", "text/plain", ""])),
    }
    signature = draw(wrong_signatures(body))
    if signature is not None:
        headers["X-FreeScout-Signature"] = header_value(signature)
    for name, value in draw(
        st.dictionaries(st.sampled_from(["X-Extra", "Accept", "User-Agent"]), latin1)
    ).items():
        headers[name] = header_value(value)
    return body, headers


@fuzz(250)
@given(unsigned_deliveries())
def test_unsigned_or_badly_signed_deliveries_are_refused_401_with_no_upstream_call(
    harness: Harness, delivery: tuple[bytes, dict[str, Any]]
) -> None:
    body, headers = delivery
    response = post(harness, body, headers)
    assert_refusal(response)
    if len(body) > LIMIT:
        assert response.json()["error"] == "body_too_large"
    else:
        assert response.json()["error"] == "invalid_signature"


def test_no_upstream_request_came_from_unsigned_deliveries(harness: Harness) -> None:
    for body in HOSTILE_BODIES:
        raw, headers = signed(body, "convo.created", secret="not-the-secret")
        assert post(harness, raw, headers).status_code == (401 if len(raw) <= LIMIT else 413)
    assert harness.freescout.requests() == []
    assert harness.github.calls == []


@st.composite
def signed_deliveries(draw: st.DrawFn, seeded: list[int]) -> tuple[bytes, dict[str, Any]]:
    if draw(st.booleans()):
        body = draw(raw_bodies)
    else:
        doc = draw(mutated_conversations(max_changes=2))
        if draw(st.booleans()):
            doc["id"] = draw(st.sampled_from(seeded) | st.integers(0, 2**63 - 1))
        raw, _ = signed(doc, "x")
        body = raw
    headers = {
        "X-FreeScout-Event": header_value(draw(event_names)),
        "X-FreeScout-Signature": sign_freescout(body, SECRET),
        "Content-Type": "application/json",
    }
    return body, headers


def test_validly_signed_random_bodies_are_refused_or_ignored_never_5xx(harness: Harness) -> None:
    @fuzz(300)
    @given(signed_deliveries(harness.seeded))
    def check(delivery: tuple[bytes, dict[str, Any]]) -> None:
        body, headers = delivery
        response = post(harness, body, headers)
        assert response.status_code < 500, (response.status_code, response.text[:300], body[:300])
        if response.status_code >= 400:
            assert_refusal(response)
        else:
            assert response.json()["outcome"] == "ignore", response.json()

    check()
    assert harness.github.calls == []  # nothing in the simulator carries a trigger tag
    fetched = {r["path"] for r in harness.freescout.requests() if r["method"] == "GET"}
    assert any(f"/api/conversations/{i}" in fetched for i in harness.seeded)  # the fresh-state path ran


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_hostile_corpus_signed(harness: Harness, body: bytes) -> None:
    raw, headers = signed(body, "convo.created")
    response = post(harness, raw, headers)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert_refusal(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ROUTE), ("PUT", ROUTE), ("POST", "/api/webhooks/freescout/nope"), ("POST", "/"), ("GET", "/x")],
)
def test_wrong_paths_and_methods_are_refused_as_json(harness: Harness, method: str, path: str) -> None:
    assert_refusal(harness.client.request(method, path, content=b"{}"))


@pytest.mark.parametrize("length", ["²", "9" * 5000, "-1", " 12", "1e3", "0x10"])
def test_odd_declared_content_length_is_read_not_crashed(length: str) -> None:
    """Real servers validate Content-Length; the app must not depend on it (int("²") raises)."""

    async def run() -> bytes:
        chunks = [{"type": "http.request", "body": b"{}", "more_body": False}]

        async def receive() -> dict[str, Any]:
            return chunks.pop() if chunks else {"type": "http.disconnect"}

        scope = {
            "type": "http",
            "method": "POST",
            "path": ROUTE,
            "headers": [(b"content-length", length.encode())],
        }
        return await read_body(Request(scope, receive), limit=10, timeout=1)

    try:
        assert anyio.run(run) == b"{}"
    except RequestError as exc:
        assert exc.status == 413
