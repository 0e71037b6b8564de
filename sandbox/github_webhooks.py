"""Repository webhooks of the local GitHub simulator (docs/upstream/github.md §6).

Registered through the control plane (``POST /_sim/hooks``), not GitHub's hooks API. What GitHub does and
this does too: a ``ping`` when the hook is created; ``issues`` ``closed``/``reopened`` and
``issue_comment`` ``created`` for every change, whoever made it (so the bridge's own comments come back as
echoes); the headers ``X-GitHub-Event``, ``X-GitHub-Delivery`` (a GUID), ``X-GitHub-Hook-ID``,
``X-GitHub-Hook-Installation-Target-Type/-ID``, ``X-Hub-Signature-256`` (and the legacy SHA-1
``X-Hub-Signature``), ``User-Agent: GitHub-Hookshot/…``; JSON, or ``payload=`` form-encoded when the hook
says ``content_type: form``; a 10 s timeout; **no retry**. A redelivery (``POST
/_sim/hooks/deliveries/{guid}/redeliver``) sends the same body with the same GUID, as GitHub's does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from sandbox import github_render as render
from sandbox.github_store import Actor, Comment, Issue, Repo

TIMEOUT_SECONDS = 10.0
USER_AGENT = "GitHub-Hookshot/sim"
EVENTS = ("issues", "issue_comment")


def sign_256(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def sign_1(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


@dataclass
class Hook:
    id: int
    url: str
    secret: str
    events: list[str]
    content_type: str = "json"  # "json" | "form"
    active: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "content_type": self.content_type,
            "active": self.active,
        }


@dataclass
class Delivery:
    guid: str
    hook: Hook
    event: str
    action: str
    body: bytes
    target_id: int
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else {}
        return {
            "guid": self.guid,
            "hook_id": self.hook.id,
            "event": self.event,
            "action": self.action or None,
            "status_code": last.get("status_code"),
            "error": last.get("error", ""),
            "answer": last.get("answer"),
            "duration_ms": last.get("duration_ms"),
            "attempts": len(self.attempts),
            "redelivery": len(self.attempts) > 1,
        }


class HookHub:
    """Hooks, deliveries and the sends in flight of one simulator."""

    def __init__(self) -> None:
        self.hooks: dict[int, Hook] = {}
        self.deliveries: list[Delivery] = []
        self._next_hook = 1
        self._in_flight: set[asyncio.Task[None]] = set()
        self.paused = False  # while paused, events are recorded but not sent (a receiver "down")

    def reset(self) -> None:
        self.hooks.clear()
        self.deliveries.clear()
        self._next_hook = 1
        self.paused = False

    def register(self, url: str, secret: str, events: list[str], content_type: str = "json") -> Hook:
        hook = Hook(self._next_hook, url, secret, events or list(EVENTS), content_type)
        self._next_hook += 1
        self.hooks[hook.id] = hook
        return hook

    def ping(self, hook: Hook, repo: Repo, base: str, web: str) -> None:
        payload = {
            "zen": "Keep it logically awesome.",
            "hook_id": hook.id,
            "hook": {**hook.to_json(), "type": "Repository", "name": "web", "config": _config(hook)},
            "repository": render.repository(repo, base, web),
            "sender": render.user(repo.owner, base, web),
        }
        self._send_new(hook, "ping", payload, repo.id)

    def issue_event(self, action: str, repo: Repo, issue: Issue, sender: Actor, base: str, web: str) -> None:
        payload = {
            "action": action,
            "issue": render.issue(repo, issue, base, web),
            "repository": render.repository(repo, base, web),
            "sender": render.user(sender, base, web),
        }
        self._fire("issues", payload, repo.id)

    def comment_event(self, repo: Repo, issue: Issue, comment: Comment, base: str, web: str) -> None:
        payload = {
            "action": "created",
            "issue": render.issue(repo, issue, base, web),
            "comment": render.comment(repo, comment, base, web),
            "repository": render.repository(repo, base, web),
            "sender": render.user(comment.user, base, web),
        }
        self._fire("issue_comment", payload, repo.id)

    def _fire(self, event: str, payload: dict[str, Any], target_id: int) -> None:
        for hook in list(self.hooks.values()):
            if hook.active and (event in hook.events or "*" in hook.events):
                self._send_new(hook, event, payload, target_id)

    def _send_new(self, hook: Hook, event: str, payload: dict[str, Any], target_id: int) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        delivery = Delivery(str(uuid.uuid4()), hook, event, str(payload.get("action") or ""), body, target_id)
        self.deliveries.append(delivery)
        if not self.paused:
            self._start(delivery)

    def redeliver(self, guid: str) -> Delivery | None:
        delivery = next((d for d in self.deliveries if d.guid == guid), None)
        if delivery is not None:
            self._start(delivery)
        return delivery

    def _start(self, delivery: Delivery) -> None:
        task = asyncio.get_running_loop().create_task(_send(delivery))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def idle(self) -> None:
        while self._in_flight:
            await asyncio.wait(list(self._in_flight))


def _config(hook: Hook) -> dict[str, Any]:
    return {"content_type": hook.content_type, "insecure_ssl": "0", "url": hook.url}


def request_of(delivery: Delivery) -> tuple[dict[str, str], bytes]:
    """Headers and body as GitHub sends them (signatures over the exact bytes sent)."""
    hook = delivery.hook
    if hook.content_type == "form":
        body = urlencode({"payload": delivery.body.decode("utf-8")}).encode("ascii")
        content_type = "application/x-www-form-urlencoded"
    else:
        body, content_type = delivery.body, "application/json"
    headers = {
        "User-Agent": USER_AGENT,
        "Content-Type": content_type,
        "X-GitHub-Event": delivery.event,
        "X-GitHub-Delivery": delivery.guid,
        "X-GitHub-Hook-ID": str(hook.id),
        "X-GitHub-Hook-Installation-Target-Type": "repository",
        "X-GitHub-Hook-Installation-Target-ID": str(delivery.target_id),
    }
    if hook.secret:
        headers["X-Hub-Signature"] = sign_1(hook.secret, body)
        headers["X-Hub-Signature-256"] = sign_256(hook.secret, body)
    return headers, body


async def _send(delivery: Delivery) -> None:
    headers, body = request_of(delivery)
    started = time.perf_counter()
    attempt: dict[str, Any] = {"at": time.time()}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.post(delivery.hook.url, content=body, headers=headers)
        attempt["status_code"] = response.status_code
        try:
            attempt["answer"] = response.json()
        except ValueError:
            attempt["answer"] = response.text[:500]
    except httpx.HTTPError as exc:
        attempt["status_code"] = None
        attempt["error"] = type(exc).__name__
    attempt["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
    delivery.attempts.append(attempt)
