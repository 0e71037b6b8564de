"""Verify ``X-FreeScout-Signature`` over the exact raw body, before anything parses it.

Real FreeScout sends ``base64(HMAC-SHA1(secret, body))``. The original design assumed HMAC-SHA256, in hex
(optionally ``sha256=``-prefixed) or base64; we accept that too. Several secrets may be active at once so the
secret can be rotated without downtime. The same prepared keys check GitHub's ``X-Hub-Signature-256``
(``verify_hub_signature``), which is strictly ``sha256=`` and hex. Failure raises: a flag the caller
could ignore is a trap.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable

_HUB_SIGNATURE = re.compile(r"\Asha256=([0-9a-fA-F]{64})\Z")


class SignatureError(Exception):
    """The delivery is not proven to come from FreeScout; ``reason`` is the log key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _candidates(header: str) -> list[tuple[str, bytes]]:
    """Decode the header into ``(algorithm, digest)`` pairs it could plausibly be."""
    value = header.strip()
    out: list[tuple[str, bytes]] = []
    if value.lower().startswith("sha256="):
        value = value[len("sha256=") :]
        try:
            return [("sha256", bytes.fromhex(value))]
        except ValueError:
            return []
    if len(value) == 64:
        try:
            out.append(("sha256", bytes.fromhex(value)))
        except ValueError:
            pass
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == 20:
        out.append(("sha1", raw))
    elif len(raw) == 32:
        out.append(("sha256", raw))
    return out


class Verifier:
    """The webhook secrets with their HMAC key set-up done once, for every delivery of the process.

    Copying a prepared HMAC costs a fraction of building one from the key on each delivery, which is the
    largest single cost of a delivery the payload settles (bench/README.md).
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        keys = [s.encode("utf-8") for s in secrets if s]
        self._prepared = {
            algorithm: [hmac.new(key, digestmod=algorithm) for key in keys]
            for algorithm in ("sha1", "sha256")
        }
        self._count = len(keys)

    def verify(self, raw_body: bytes, header: str | None) -> None:
        """Return quietly when ``header`` signs ``raw_body`` with one of the secrets; raise otherwise."""
        if not self._count:
            raise SignatureError("no_secret_configured")
        if not header or not header.strip():
            raise SignatureError("signature_missing")
        candidates = _candidates(header)
        if not candidates:
            raise SignatureError("signature_malformed")
        self._check(raw_body, candidates)

    def verify_hub_signature(self, raw_body: bytes, header: str | None) -> None:
        """GitHub's ``X-Hub-Signature-256``: exactly ``sha256=<64 hex>`` over ``raw_body``; raise otherwise."""
        if not self._count:
            raise SignatureError("no_secret_configured")
        if not header or not header.strip():
            raise SignatureError("signature_missing")
        match = _HUB_SIGNATURE.match(header.strip())
        if match is None:
            raise SignatureError("signature_malformed")
        self._check(raw_body, [("sha256", bytes.fromhex(match.group(1)))])

    def _check(self, raw_body: bytes, candidates: list[tuple[str, bytes]]) -> None:
        matched = False
        for algorithm, digest in candidates:
            for prepared in self._prepared[algorithm]:
                mac = prepared.copy()
                mac.update(raw_body)
                # Keep comparing after a match so timing does not reveal which secret or format matched.
                matched |= hmac.compare_digest(mac.digest(), digest)
        if not matched:
            raise SignatureError("signature_mismatch")


def verify_signature(raw_body: bytes, header: str | None, secrets: Iterable[str]) -> None:
    """Return quietly when ``header`` signs ``raw_body`` with one of ``secrets``; raise otherwise."""
    Verifier(secrets).verify(raw_body, header)


def sign_freescout(raw_body: bytes, secret: str) -> str:
    """The header value real FreeScout would send; used by the simulator, tests and the demo."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha1).digest()).decode("ascii")


def sign_github(raw_body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value GitHub would send; used by the simulator, tests and the demo."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
