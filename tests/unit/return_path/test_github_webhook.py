"""GitHub deliveries: GitHub's own signature test vector, rotation, and each refusal with its status."""

from __future__ import annotations

import json

import pytest

from bridge.github_webhook import STATUS_BY_REASON, Delivery, DeliveryError
from bridge.signature import SignatureError, Verifier, sign_github
from tests.unit.return_path.samples import gh

VECTOR_SECRET = "It's a Secret to Everybody"
VECTOR_BODY = b"Hello, World!"
VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
SECRET = "hook-secret"


def headers(body: bytes, event: str = "issues", secret: str = SECRET, **extra: str) -> dict[str, str]:
    out = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-GitHub-Hook-ID": "292430182",
        "X-Hub-Signature-256": sign_github(body, secret),
        "User-Agent": "GitHub-Hookshot/044aadd",
    }
    out.update(extra)
    return out


def test_githubs_published_test_vector() -> None:
    assert sign_github(VECTOR_BODY, VECTOR_SECRET) == VECTOR_SIGNATURE
    Verifier([VECTOR_SECRET]).verify_hub_signature(VECTOR_BODY, VECTOR_SIGNATURE)


def test_real_closed_delivery_parses() -> None:
    body = json.dumps(gh("issues.closed")).encode()
    delivery = Delivery.from_http(headers(body), body, Verifier([SECRET]))
    assert (delivery.event, delivery.action) == ("issues", "closed")
    assert delivery.delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert delivery.hook_id == "292430182"
    assert delivery.payload["issue"]["state_reason"] == "completed"


def test_ping_has_no_action_and_header_case_does_not_matter() -> None:
    body = json.dumps(gh("ping")).encode()
    lowered = {k.lower(): v for k, v in headers(body, "ping").items()}
    delivery = Delivery.from_http(lowered, body, Verifier([SECRET]))
    assert (delivery.event, delivery.action) == ("ping", "")


def test_either_rotating_secret_verifies() -> None:
    body = json.dumps(gh("issues.reopened")).encode()
    verifier = Verifier(["old-secret", SECRET])
    assert Delivery.from_http(headers(body), body, verifier).action == "reopened"
    assert Delivery.from_http(headers(body, secret="old-secret"), body, verifier).action == "reopened"


BODY = json.dumps(gh("issue_comment.created")).encode()


@pytest.mark.parametrize(
    ("change", "body", "reason", "status"),
    [
        ({"X-Hub-Signature-256": ""}, BODY, "signature_missing", 401),
        ({"X-Hub-Signature-256": sign_github(BODY, "wrong")}, BODY, "signature_mismatch", 401),
        ({"X-Hub-Signature-256": sign_github(BODY, SECRET)[7:]}, BODY, "signature_malformed", 401),
        ({"X-Hub-Signature-256": "sha1=" + "0" * 40}, BODY, "signature_malformed", 401),
        ({"X-Hub-Signature-256": sign_github(BODY, SECRET)}, BODY + b" ", "signature_mismatch", 401),
        ({"Content-Type": "application/x-www-form-urlencoded"}, BODY, "unsupported_media_type", 415),
        ({"X-GitHub-Event": " "}, BODY, "missing_event", 400),
        ({"X-GitHub-Delivery": ""}, BODY, "missing_delivery_id", 400),
        ({}, b"payload=%7B%7D", "invalid_json", 400),
        ({}, b"[1, 2]", "not_an_object", 400),
        ({}, b"\xff\xfe", "invalid_json", 400),
    ],
    ids=[
        "no-signature",
        "wrong-secret",
        "no-prefix",
        "sha1-header",
        "body-changed",
        "form-encoded",
        "no-event",
        "no-delivery-id",
        "not-json",
        "json-array",
        "not-utf8",
    ],
)
def test_refusals(change: dict[str, str], body: bytes, reason: str, status: int) -> None:
    sent = headers(body)
    sent.update(change)
    with pytest.raises(DeliveryError) as caught:
        Delivery.from_http(sent, body, Verifier([SECRET]))
    assert (caught.value.reason, caught.value.status) == (reason, status)
    assert caught.value.message


def test_signature_is_checked_before_the_content_type() -> None:
    sent = headers(BODY, secret="wrong", **{"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(DeliveryError) as caught:
        Delivery.from_http(sent, BODY, Verifier([SECRET]))
    assert caught.value.status == 401


def test_no_secret_configured_fails_closed() -> None:
    with pytest.raises(DeliveryError) as caught:
        Delivery.from_http(headers(BODY), BODY, Verifier([]))
    assert caught.value.reason == "no_secret_configured"


def test_every_reason_has_a_status_and_message() -> None:
    for reason in STATUS_BY_REASON:
        assert DeliveryError(reason).message


def test_freescout_formats_are_not_accepted_for_github() -> None:
    with pytest.raises(SignatureError):
        Verifier([VECTOR_SECRET]).verify_hub_signature(VECTOR_BODY, VECTOR_SIGNATURE[7:])
