"""A GitHub webhook delivery, verified and parsed in one pure step (gidgethub's ``Event.from_http``).

The signature is checked over the exact raw bytes before anything is parsed (``X-Hub-Signature-256``,
several secrets while rotating, constant time). Only JSON deliveries are accepted: a hook set to
``application/x-www-form-urlencoded`` is refused with a message saying which setting to change. Every
refusal is a ``DeliveryError`` whose ``reason`` is the log key and whose ``status`` is the HTTP answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.signature import SignatureError, Verifier

#: HTTP status for each refusal reason: the web shell answers with it, as JSON ``{"error", "message"}``.
STATUS_BY_REASON: Mapping[str, int] = {
    "no_secret_configured": 401,
    "signature_missing": 401,
    "signature_malformed": 401,
    "signature_mismatch": 401,
    "unsupported_media_type": 415,
    "missing_event": 400,
    "missing_delivery_id": 400,
    "invalid_json": 400,
    "not_an_object": 400,
}

_MESSAGES: Mapping[str, str] = {
    "no_secret_configured": "GITHUB_WEBHOOK_SECRET is not set: every GitHub delivery is refused",
    "signature_missing": "X-Hub-Signature-256 is missing: set a secret on the GitHub webhook",
    "signature_malformed": "X-Hub-Signature-256 must be sha256=<64 hex digits>",
    "signature_mismatch": "X-Hub-Signature-256 does not match: the webhook secret differs from GITHUB_WEBHOOK_SECRET",
    "unsupported_media_type": "only JSON deliveries are accepted: set the webhook's Content type to "
    "application/json in GitHub",
    "missing_event": "X-GitHub-Event is missing",
    "missing_delivery_id": "X-GitHub-Delivery is missing",
    "invalid_json": "the body is not valid JSON",
    "not_an_object": "the body must be a JSON object",
}


class DeliveryError(Exception):
    """The delivery is refused; ``reason`` is the log key, ``status`` the HTTP answer, ``message`` for people."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.status = STATUS_BY_REASON[reason]
        self.message = _MESSAGES[reason]
        super().__init__(self.message)


@dataclass(frozen=True)
class Delivery:
    """One verified GitHub delivery; ``action`` is ``""`` for events without one (``ping``)."""

    event: str
    delivery_id: str
    action: str
    payload: Mapping[str, Any] = field(repr=False)
    hook_id: str = ""

    @classmethod
    def from_http(cls, headers: Mapping[str, str], body: bytes, verifier: Verifier) -> Delivery:
        """Verify then parse; raise ``DeliveryError`` (401, 415 or 400) for anything else."""
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            verifier.verify_hub_signature(body, lowered.get("x-hub-signature-256"))
        except SignatureError as exc:
            raise DeliveryError(exc.reason) from None
        media_type = lowered.get("content-type", "application/json").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            raise DeliveryError("unsupported_media_type")
        event = lowered.get("x-github-event", "").strip()
        if not event:
            raise DeliveryError("missing_event")
        delivery_id = lowered.get("x-github-delivery", "").strip()
        if not delivery_id:
            raise DeliveryError("missing_delivery_id")
        payload = _decode(body)
        action = payload.get("action")
        return cls(
            event=event,
            delivery_id=delivery_id,
            action=action if isinstance(action, str) else "",
            payload=payload,
            hook_id=lowered.get("x-github-hook-id", "").strip(),
        )


def _decode(body: bytes) -> Mapping[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise DeliveryError("invalid_json") from None
    if not isinstance(payload, dict):
        raise DeliveryError("not_an_object")
    return payload
