"""Webhook registry and delivery worker of the local FreeScout simulator.

Mirrors docs/upstream/freescout.md sections 1-3: the body is the entity itself (no envelope),
encoded like PHP ``json_encode``; ``X-FreeScout-Signature`` is base64(HMAC-SHA1(secret,
raw body)); delivery is asynchronous (a background asyncio task started by the app's
lifespan); the body snapshot is built when the job first runs; any non-2xx, connection
error or timeout is retried on a compressed schedule, resending the stored snapshot,
until the attempts are used up, then the event is dropped. No delivery id is sent.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox import phpjson

CONVO_EVENTS = (
    "convo.created",
    "convo.assigned",
    "convo.status",
    "convo.moved",
    "convo.customer.reply.created",
    "convo.agent.reply.created",
    "convo.note.created",
    "convo.deleted",
    "convo.deleted_forever",
    "convo.restored",
)
KNOWN_EVENTS = (*CONVO_EVENTS, "customer.created", "customer.updated")
USER_AGENT = "GuzzleHttp/6.5.5 curl/7.81.0 PHP/7.4.33"

Renderer = Callable[[str, int], dict[str, Any] | None]


def sign(secret: str, body: bytes) -> str:
    """``X-FreeScout-Signature``: base64 HMAC-SHA1 keyed with the secret's ASCII bytes."""
    mac = hmac.new(secret.encode("ascii"), body, hashlib.sha1).digest()
    return base64.b64encode(mac).decode("ascii")


@dataclass
class Webhook:
    id: int
    url: str
    events: list[str]
    mailboxes: list[int] | None = None
    last_run_time: str | None = None
    last_run_error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "lastRunTime": self.last_run_time,
            "lastRunError": self.last_run_error,
        }


@dataclass
class Job:
    id: int
    webhook: Webhook
    event: str
    kind: str  # "conversation" | "customer"
    entity_id: int
    due: float
    max_attempts: int
    attempt: int = 0
    snapshot: bytes | None = None
    redelivery: bool = False
    generation: int = 0  # jobs from before a reset are dropped when they finish


class WebhookHub:
    """Registered webhooks, the job queue, the delivery log and the worker task."""

    def __init__(
        self,
        secret: str,
        retry_delays: tuple[float, ...],
        timeout: float,
        undo_delay: float,
        render: Renderer,
    ) -> None:
        self.secret = secret
        self.retry_delays = retry_delays
        self.timeout = timeout
        self.undo_delay = undo_delay
        self.render = render
        self.webhooks: dict[int, Webhook] = {}
        self.deliveries: list[dict[str, Any]] = []
        self._snapshots: dict[int, bytes] = {}
        self._jobs: list[Job] = []
        self._in_flight = 0
        self._ids = {"webhook": 1, "job": 1}
        self._generation = 0
        self._wakeup: asyncio.Event | None = None
        self._changed: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    # -- registry ----------------------------------------------------------------------
    def register(self, url: str, events: list[str], mailboxes: list[int] | None = None) -> Webhook:
        hook = Webhook(self._ids["webhook"], url, events, mailboxes)
        self._ids["webhook"] += 1
        self.webhooks[hook.id] = hook
        return hook

    def fire(
        self, event: str, kind: str, entity_id: int, mailbox_id: int | None = None, *, undo: bool = False
    ) -> int:
        """Queue one job per subscribed webhook; returns how many were queued."""
        loop_time = asyncio.get_running_loop().time()
        due = loop_time + (self.undo_delay if undo else 0.0)
        queued = 0
        for hook in self.webhooks.values():
            if event not in hook.events:
                continue
            if hook.mailboxes and event.startswith("convo.") and mailbox_id not in hook.mailboxes:
                continue
            self._jobs.append(self._job(hook, event, kind, entity_id, due, 1 + len(self.retry_delays)))
            queued += 1
        self._signal()
        return queued

    def _job(self, hook: Webhook, event: str, kind: str, entity_id: int, due: float, attempts: int) -> Job:
        job = Job(self._ids["job"], hook, event, kind, entity_id, due, attempts, generation=self._generation)
        self._ids["job"] += 1
        return job

    def idle(self) -> bool:
        return not self._jobs and self._in_flight == 0

    def pending(self) -> list[dict[str, Any]]:
        return [
            {
                "jobId": j.id,
                "event": j.event,
                "entityId": j.entity_id,
                "attemptsMade": j.attempt,
                "url": j.webhook.url,
            }
            for j in self._jobs
        ]

    def reset(self) -> None:
        self._generation += 1
        self.webhooks.clear()
        self.deliveries.clear()
        self._snapshots.clear()
        self._jobs.clear()
        self._signal()

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        self._wakeup = asyncio.Event()
        self._changed = asyncio.Event()
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), follow_redirects=True)
        self._task = asyncio.create_task(self._run(), name="freescout-sim-webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def wait_idle(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                while not self.idle():
                    assert self._changed is not None
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            return False
        return True

    async def redeliver(self, index: int) -> dict[str, Any] | None:
        """Send the snapshot of delivery ``index`` once more (a duplicate), right now."""
        if not 0 <= index < len(self.deliveries):
            return None
        past = self.deliveries[index]
        hook = self.webhooks.get(past["webhookId"]) or Webhook(
            past["webhookId"], past["url"], [past["event"]]
        )
        job = self._job(hook, past["event"], past["entityKind"], past["entityId"], 0.0, 1)
        job.snapshot = self._snapshots[job.id] = self._snapshots[past["jobId"]]
        job.redelivery = True
        return await self._attempt(job)

    # -- worker ------------------------------------------------------------------------
    def _signal(self) -> None:
        for event in (self._wakeup, self._changed):
            if event is not None:
                event.set()

    async def _run(self) -> None:
        assert self._wakeup is not None
        loop = asyncio.get_running_loop()
        while True:
            self._wakeup.clear()
            delay: float | None = None
            if self._jobs:
                job = min(self._jobs, key=lambda j: (j.due, j.id))
                delay = job.due - loop.time()
                if delay <= 0:
                    self._jobs.remove(job)
                    self._in_flight += 1
                    try:
                        await self._attempt(job)
                    finally:
                        self._in_flight -= 1
                        self._signal()
                    continue
            try:
                await asyncio.wait_for(self._wakeup.wait(), delay)
            except TimeoutError:
                pass

    async def _attempt(self, job: Job) -> dict[str, Any] | None:
        if job.snapshot is None:
            payload = self.render(job.kind, job.entity_id)
            if payload is None:
                return None
            job.snapshot = phpjson.dumps_bytes(payload)
            self._snapshots[job.id] = job.snapshot
        job.attempt += 1
        signature = sign(self.secret, job.snapshot)
        headers = {
            "Content-Type": "application/json",
            "X-FreeScout-Event": job.event,
            "X-FreeScout-Signature": signature,
            "User-Agent": USER_AGENT,
        }
        status, error = await self._post(job.webhook.url, job.snapshot, headers)
        if job.generation != self._generation:
            return None
        ok = status is not None and 200 <= status < 300
        retry = not ok and not job.redelivery and job.attempt < job.max_attempts
        entry = self._log(job, signature, status, error, ok, retry)
        if retry:
            job.due = asyncio.get_running_loop().time() + self.retry_delays[job.attempt - 1]
            self._jobs.append(job)
        return entry

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        assert self._client is not None
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return None, f"timeout: {type(exc).__name__}"
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    def _log(
        self, job: Job, signature: str, status: int | None, error: str | None, ok: bool, retry: bool
    ) -> dict[str, Any]:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        job.webhook.last_run_time = stamp
        job.webhook.last_run_error = "" if ok else (error or f"HTTP {status}")
        assert job.snapshot is not None
        entry: dict[str, Any] = {
            "index": len(self.deliveries),
            "jobId": job.id,
            "webhookId": job.webhook.id,
            "url": job.webhook.url,
            "event": job.event,
            "entityKind": job.kind,
            "entityId": job.entity_id,
            "conversationId": job.entity_id if job.kind == "conversation" else None,
            "attempt": job.attempt,
            "status": status,
            "error": error,
            "ok": ok,
            "willRetry": retry,
            "dropped": not ok and not retry and not job.redelivery,
            "redelivery": job.redelivery,
            "signature": signature,
            "body": job.snapshot.decode("ascii"),
            "at": stamp,
        }
        self.deliveries.append(entry)
        return entry
