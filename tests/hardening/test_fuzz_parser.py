"""The pure core never fails in an unplanned way: every input is parsed, or refused with a typed error.

Anything other than ``PayloadError`` / ``RequestError`` / ``SignatureError`` escaping these functions would
be a 500 at the endpoint, so each property below is "returns, or raises exactly the planned error".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.app import RequestError, parse_json
from bridge.model import Conversation, PayloadError, parse_conversation
from bridge.signature import SignatureError, sign_freescout, verify_signature
from tests.hardening.strategies import (
    HOSTILE_BODIES,
    fuzz,
    json_values,
    mutated_conversations,
    raw_bodies,
)
from tests.helpers import SECRET, fixture


def parse_or_refuse(data: Any) -> Conversation | None:
    try:
        conv = parse_conversation(data)
    except PayloadError as exc:
        assert exc.reason == "invalid_payload" and isinstance(exc.message, str)
        return None
    assert 0 <= conv.id < 2**63 and 0 <= conv.mailbox_id < 2**63
    assert all(isinstance(t.body, str) for t in conv.threads)
    return conv


@fuzz(400)
@given(json_values)
def test_any_json_value_parses_or_is_refused_with_payload_error(data: Any) -> None:
    parse_or_refuse(data)


@fuzz(400)
@given(mutated_conversations())
def test_real_bodies_with_hostile_fields_parse_or_are_refused(data: Any) -> None:
    parse_or_refuse(data)


@pytest.mark.parametrize(
    "value", ["²", "١٢", "⑦", " 7 ", "0007", "9" * 18, "9" * 19, "-3", "3.0", "", "\u0660"]
)
def test_numeric_strings_in_id_fields_never_escape_as_value_error(value: str) -> None:
    for key in ("id", "mailboxId", "number"):
        parse_or_refuse(fixture("convo.created.json", **{key: value}))


@fuzz(300)
@given(raw_bodies)
def test_parse_json_returns_or_refuses_with_400(raw: bytes) -> None:
    try:
        parse_json(raw)
    except RequestError as exc:
        assert (exc.status, exc.error) == (400, "invalid_json")


@pytest.mark.parametrize("raw", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_parse_json_hostile_corpus(raw: bytes) -> None:
    try:
        data = parse_json(raw)
    except RequestError as exc:
        assert exc.status == 400
    else:
        parse_or_refuse(data)


headers = (
    st.none()
    | st.text(max_size=80)
    | st.binary(min_size=20, max_size=32).map(lambda b: base64.b64encode(b).decode())
    | st.binary(min_size=32, max_size=32).map(lambda b: "sha256=" + b.hex())
)
secret_lists = st.lists(st.text(max_size=40), max_size=3)


@fuzz(400)
@given(st.binary(max_size=200), headers, secret_lists)
def test_random_headers_never_verify_and_fail_only_with_signature_error(
    body: bytes, header: str | None, secrets: list[str]
) -> None:
    usable = [s for s in secrets if s]
    valid = set()
    for s in usable:
        for algorithm in ("sha1", "sha256"):
            digest = hmac.new(s.encode("utf-8", "surrogatepass"), body, algorithm).digest()
            valid |= {base64.b64encode(digest).decode(), digest.hex(), "sha256=" + digest.hex()}
    try:
        verify_signature(body, header, secrets)
    except SignatureError as exc:
        assert exc.reason in {
            "no_secret_configured",
            "signature_missing",
            "signature_malformed",
            "signature_mismatch",
        }
    else:
        assert header is not None and header.strip() in valid


@fuzz(300)
@given(st.binary(max_size=300), st.integers(0, 27), st.sampled_from("AZaz09+/="))
def test_a_valid_signature_verifies_and_any_one_character_change_does_not(
    body: bytes, position: int, replacement: str
) -> None:
    header = sign_freescout(body, SECRET)
    verify_signature(body, header, [SECRET])
    verify_signature(body, f"  {header}\t", [SECRET])  # surrounding whitespace is tolerated
    changed = header[:position] + replacement + header[position + 1 :]
    if changed != header:
        with pytest.raises(SignatureError):
            verify_signature(body, changed, [SECRET])
    with pytest.raises(SignatureError):
        verify_signature(body + b" ", header, [SECRET])


def test_reserialised_body_fails_but_exact_bytes_pass() -> None:
    raw = json.dumps(fixture("convo.created.json")).replace("/", "\\/").encode()
    header = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha1).digest()).decode()
    verify_signature(raw, header, [SECRET])
    with pytest.raises(SignatureError):
        verify_signature(json.dumps(json.loads(raw)).encode(), header, [SECRET])
