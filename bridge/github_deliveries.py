"""GitHub webhooks on the web process: verify, deduplicate, accept, and fan out in the background.

GitHub waits 10 s for an answer and never retries a failed delivery (docs/upstream/github.md §6). So the
route only verifies (``bridge.github_webhook.Delivery.from_http``), decides which issue the event touches
(``bridge.return_path.route_event``), schedules the fan-out as a task owned by this process and answers
202 at once. Accepting is synchronous, with no ``await`` between the duplicate check
and the record, so two copies of one delivery can never both start a fan-out.

- ``X-GitHub-Delivery`` ids are remembered (bounded, oldest forgotten first). A copy of a delivery whose
  fan-out is running or done is answered 200 ``duplicate`` and writes nothing; a copy of one whose fan-out
  failed runs it again (that is why someone redelivers), which the hidden note keys keep exactly-once.
- Passes for one issue run one after another; deliveries that arrive while a pass waits to start join it
  (it reads fresh state, so it covers them). A few issues fan out at once.
- Every pass runs through the process's ``ReturnPath`` (the Linker's per-conversation locks and in-doubt
  ledger: the web process is the single writer). Whatever a crash or a failing FreeScout leaves undone is
  finished by the sweep's catch-up pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge import logs
from bridge.catch_up import ReturnPath
from bridge.github_webhook import Delivery
from bridge.return_path import Ignore, route_event
from bridge.signature import Verifier

log = logs.get_logger()

PATH = "/api/webhooks/github"
ROUTE = "github"
#: Delivery ids remembered: GitHub keeps deliveries about 3 days; this covers far more than a busy day.
REMEMBERED = 20_000
#: Issues fanning out at once (each pass runs its tickets 8 at a time).
ISSUES_AT_ONCE = 4
#: On shutdown, running passes get this long to finish; the catch-up pass finishes anything cut.
SHUTDOWN_GRACE_SECONDS = 5.0
#: The events to tick when registering the webhook in GitHub (``freescout-bridge check`` prints them).
EVENTS_TO_TICK = ("Issues", "Issue comments")


@dataclass(frozen=True)
class Answer:
    """What the route answers and logs for one delivery."""

    status: int
    outcome: str
    reason: str
    fields: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reason": self.reason, **self.fields}

    def log(self) -> tuple[str, str, dict[str, Any]]:
        """Outcome, reason and the fields for the delivery's summary line."""
        return self.outcome, self.reason, self.fields


class DeliveryRecord:
    """Accepted delivery ids and their fan-out state (``running`` | ``done`` | ``failed``), bounded."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._states: OrderedDict[str, str] = OrderedDict()

    def get(self, delivery_id: str) -> str | None:
        return self._states.get(delivery_id)

    def set(self, delivery_id: str, state: str) -> None:
        self._states[delivery_id] = state
        self._states.move_to_end(delivery_id)
        while len(self._states) > self._size:
            self._states.popitem(last=False)

    def __len__(self) -> int:
        return len(self._states)


class GitHubDeliveries:
    """The GitHub webhook transport of one web process (built by the lifespan, closed at shutdown)."""

    def __init__(
        self,
        verifier: Verifier,
        return_path: ReturnPath,
        *,
        bridge_logins: tuple[str, ...] = (),
        issues_at_once: int = ISSUES_AT_ONCE,
    ) -> None:
        self._verifier = verifier
        self._return_path = return_path
        self._logins = bridge_logins
        self._record = DeliveryRecord()
        self._limit = asyncio.Semaphore(max(1, issues_at_once))
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: dict[int, list[str]] = {}  # issue -> delivery ids of the pass waiting to start
        self._newest: dict[int, asyncio.Task[None]] = {}  # issue -> its newest pass

    @property
    def repository(self) -> str:
        return self._return_path.repository

    def accept(self, headers: Mapping[str, str], body: bytes) -> Answer:
        """Verify, route, deduplicate, schedule; raise ``DeliveryError`` for a refusal. No I/O, no await."""
        delivery = Delivery.from_http(headers, body, self._verifier)
        fields: dict[str, Any] = {"delivery_id": delivery.delivery_id[:64]}
        if delivery.action:
            fields["action"] = delivery.action[:64]
        if delivery.event == "ping":
            return Answer(200, "pong", "ping", fields)
        routed = route_event(
            delivery.event, delivery.payload, repository=self.repository, bridge_logins=self._logins
        )
        if isinstance(routed, Ignore):
            return Answer(200, "ignore", routed.reason, {**fields, "detail": routed.detail[:200]})
        fields["issue"] = f"{routed.repository}#{routed.issue_number}"
        state = self._record.get(delivery.delivery_id)
        if state in ("running", "done"):
            return Answer(200, "duplicate", f"fan_out_{state}", fields)
        self._record.set(delivery.delivery_id, "running")
        joined = self._schedule(routed.issue_number, delivery.delivery_id)
        fields["shadow"] = not self._return_path.target.live
        return Answer(202, "accepted", "joined_waiting_pass" if joined else routed.trigger, fields)

    def _schedule(self, number: int, delivery_id: str) -> bool:
        """Start a pass for issue ``number`` after its current one, or join the pass waiting to start."""
        waiting = self._waiting.get(number)
        if waiting is not None:
            waiting.append(delivery_id)
            return True
        ids = [delivery_id]
        self._waiting[number] = ids
        task = asyncio.get_running_loop().create_task(self._pass(number, ids, self._newest.get(number)))
        self._newest[number] = task
        self._tasks.add(task)
        task.add_done_callback(self._forget(number))
        return False

    def _forget(self, number: int) -> Any:
        def done(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            if self._newest.get(number) is task:
                del self._newest[number]

        return done

    async def _pass(self, number: int, ids: list[str], before: asyncio.Task[None] | None) -> None:
        if before is not None:
            await asyncio.wait([before])
        if self._waiting.get(number) is ids:
            del self._waiting[number]  # from here on, a new delivery needs a new pass: this one reads now
        started = time.perf_counter()
        state, fields = "failed", {}
        try:
            async with self._limit:
                report = await self._return_path.reconcile(number)
            state = "failed" if report.failed else "done"
            fields = {"outcome": report.outcome, "tickets": report.counts()}
        except Exception as exc:
            fields = {"outcome": "failed", "reason": getattr(exc, "reason", type(exc).__name__)}
            log.warning("github_fan_out_error", issue=f"{self.repository}#{number}", exc_info=True)
        finally:
            for delivery_id in ids:
                self._record.set(delivery_id, state)
        log.info(
            "github_fan_out",
            issue=f"{self.repository}#{number}",
            deliveries=len(ids),
            state=state,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            **fields,
        )

    async def idle(self) -> None:
        """Wait until no pass is running or waiting (tests, the bench, and shutdown)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def close(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Give running passes ``grace`` seconds, then cancel the rest (the catch-up pass finishes them)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.idle()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
