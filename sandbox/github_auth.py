"""Credentials of the local GitHub simulator: a static token, GitHub App JWTs and the
installation tokens minted from them (``POST /app/installations/{id}/access_tokens``).

JWT signatures are not verified (the simulator has no public key); a JWT must be well
formed, carry ``iss`` and an unexpired ``exp``, as PyGithub's ``Auth.AppAuth`` sends.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.github_store import Actor


@dataclass(frozen=True)
class Identity:
    key: str  # rate-limit bucket key; never the token itself
    kind: str  # "token" | "installation" | "app"
    actor: Actor
    app_id: str | None = None


def _b64json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


class Credentials:
    """Known tokens and the app's installation."""

    def __init__(
        self,
        token: str,
        login: str,
        app_slug: str,
        installation_id: int,
        token_ttl: int,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.static_token = token
        self.user = Actor(login, 583231)
        self.bot = Actor(f"{app_slug}[bot]", 41898282, "Bot")
        self.app_slug = app_slug
        self.installation_id = installation_id
        self.token_ttl = token_ttl
        self.wall = wall
        self._lock = threading.Lock()
        self._minted: dict[str, float] = {}
        self._count = 0

    def reset(self) -> None:
        with self._lock:
            self._minted.clear()

    def identify(self, authorization: str | None) -> Identity | None:
        scheme, _, value = (authorization or "").strip().partition(" ")
        if scheme.lower() not in ("token", "bearer") or not value.strip():
            return None
        value = value.strip()
        if value == self.static_token:
            return Identity("token", "token", self.user)
        with self._lock:
            expires = self._minted.get(value)
        if expires is not None:
            return (
                Identity(f"installation:{self.installation_id}", "installation", self.bot)
                if expires > self.wall()
                else None
            )
        return self._jwt(value) if scheme.lower() == "bearer" else None

    def _jwt(self, value: str) -> Identity | None:
        parts = value.split(".")
        if len(parts) != 3:
            return None
        try:
            header, claims = _b64json(parts[0]), _b64json(parts[1])
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        if not isinstance(header, dict) or not isinstance(claims, dict) or "iss" not in claims:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= self.wall():
            return None
        return Identity(f"app:{claims['iss']}", "app", Actor(self.app_slug, 1), str(claims["iss"]))

    def mint(self, permissions: dict[str, str] | None) -> dict[str, Any]:
        """A new installation token valid for ``token_ttl`` seconds."""
        with self._lock:
            self._count += 1
            token = f"ghs_sim{self._count:04d}{int(self.wall()) % 100000:05d}installationtoken"
            expires = self.wall() + self.token_ttl
            self._minted[token] = expires
        return {
            "token": token,
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
            "permissions": permissions or {"issues": "write", "metadata": "read"},
            "repository_selection": "selected",
        }
