"""X-FreeScout-Signature: the test vector of docs/upstream/freescout.md §1, PHP-encoded bodies, rotation and the legacy format."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from bridge.signature import SignatureError, sign_freescout, verify_signature

VECTOR_SECRET = "0123456789abcdef0123456789abcdef"
VECTOR_BODY = b'{"id":42,"status":"pending"}'
VECTOR_SIGNATURE = "Nj4SKDQbx3pIvKIVddZWKmibTR0="


def test_contract_test_vector_verifies() -> None:
    assert sign_freescout(VECTOR_BODY, VECTOR_SECRET) == VECTOR_SIGNATURE
    verify_signature(VECTOR_BODY, VECTOR_SIGNATURE, [VECTOR_SECRET])


def test_webhook_secret_is_md5_of_app_key_used_as_ascii() -> None:
    app_key = "base64:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    secret = hashlib.md5((app_key + "webhook_key").encode()).hexdigest()
    assert secret == "767fe609bebe85ec3dcb9a3c21dc7e0e"


def test_php_escaped_body_verifies_over_exact_bytes() -> None:
    raw = b'{"id":1,"subject":"Caf\\u00e9 \\/ export","url":"https:\\/\\/x.example\\/a"}'
    header = sign_freescout(raw, VECTOR_SECRET)
    verify_signature(raw, header, [VECTOR_SECRET])
    reencoded = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    with pytest.raises(SignatureError):
        verify_signature(reencoded, header, [VECTOR_SECRET])


def test_either_of_two_rotating_secrets_verifies() -> None:
    header = sign_freescout(VECTOR_BODY, "new-secret-value")
    verify_signature(VECTOR_BODY, header, [VECTOR_SECRET, "new-secret-value"])


@pytest.mark.parametrize(
    "header",
    [
        hmac.new(VECTOR_SECRET.encode(), VECTOR_BODY, hashlib.sha256).hexdigest(),
        "sha256=" + hmac.new(VECTOR_SECRET.encode(), VECTOR_BODY, hashlib.sha256).hexdigest(),
        base64.b64encode(hmac.new(VECTOR_SECRET.encode(), VECTOR_BODY, hashlib.sha256).digest()).decode(),
        "  " + VECTOR_SIGNATURE + "\n",
    ],
    ids=["sha256-hex", "sha256-prefixed", "sha256-base64", "sha1-with-whitespace"],
)
def test_legacy_and_padded_formats_verify(header: str) -> None:
    verify_signature(VECTOR_BODY, header, [VECTOR_SECRET])


@pytest.mark.parametrize(
    ("header", "secrets", "reason"),
    [
        (None, [VECTOR_SECRET], "signature_missing"),
        ("", [VECTOR_SECRET], "signature_missing"),
        ("not base64 at all!", [VECTOR_SECRET], "signature_malformed"),
        ("sha256=zz", [VECTOR_SECRET], "signature_malformed"),
        (sign_freescout(VECTOR_BODY, "other"), [VECTOR_SECRET], "signature_mismatch"),
        (sign_freescout(VECTOR_BODY + b" ", VECTOR_SECRET), [VECTOR_SECRET], "signature_mismatch"),
        (VECTOR_SIGNATURE, [], "no_secret_configured"),
        (VECTOR_SIGNATURE, [""], "no_secret_configured"),
    ],
)
def test_bad_signatures_fail_closed(header: str | None, secrets: list[str], reason: str) -> None:
    with pytest.raises(SignatureError) as caught:
        verify_signature(VECTOR_BODY, header, secrets)
    assert caught.value.reason == reason
