"""PHP json_encode fidelity and FreeScout's signature test vector (docs/upstream/freescout.md §1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from sandbox import phpjson
from sandbox.freescout_webhooks import sign


def test_signature_matches_the_contract_test_vector() -> None:
    assert (
        sign("0123456789abcdef0123456789abcdef", b'{"id":42,"status":"pending"}')
        == "Nj4SKDQbx3pIvKIVddZWKmibTR0="
    )


def test_signature_is_base64_hmac_sha1_over_raw_bytes() -> None:
    body = phpjson.dumps_bytes({"url": "https://example.com/a", "name": "Zoë"})
    expected = base64.b64encode(hmac.new(b"s3cr3t", body, hashlib.sha1).digest()).decode()
    assert sign("s3cr3t", body) == expected
    assert len(expected) == 28


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ({"id": 42, "status": "pending"}, '{"id":42,"status":"pending"}'),
        ("https://github.com/acme/app/issues/1", '"https:\\/\\/github.com\\/acme\\/app\\/issues\\/1"'),
        ("é", '"\\u00e9"'),
        ("€", '"\\u20ac"'),
        ("😀", '"\\ud83d\\ude00"'),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("\n\t\r\b\f\x01", '"\\n\\t\\r\\b\\f\\u0001"'),
        ("<a href='x'>&</a>\x7f", "\"<a href='x'>&<\\/a>\x7f\""),
        ([], "[]"),
        ({}, "{}"),
        ([None, True, False, 0, -5], "[null,true,false,0,-5]"),
    ],
)
def test_encoding_matches_php_json_encode_defaults(value: object, encoded: str) -> None:
    assert phpjson.dumps(value) == encoded


def test_output_is_ascii_and_round_trips() -> None:
    value = {"body": "<p>Café — see https://x.y/z?a=1&b=2</p>", "n": [1, {"k": None}]}
    raw = phpjson.dumps_bytes(value)
    raw.decode("ascii")
    assert json.loads(raw) == value
