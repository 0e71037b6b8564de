"""Writes whose outcome is unknown: looked for, never blindly repeated.

Neither FreeScout nor GitHub offers an idempotency key or compare-and-set. A create that timed out, lost
its answer or got a 5xx may still land later: PHP keeps working after the client hung up (its default
limit is 30 s), and a proxy may hold a request for 60 s. Sending it again because a look finds nothing
*yet* is how a twin is born. So every write that is not idempotent goes through ``write_once``:

1. look for the write's effect (unless the caller has just looked); if it is there, nothing is sent;
2. mark the write *in doubt*, then send it once (a send cancelled half-way stays in doubt);
3. a clear answer settles it: success, or a refusal that proves nothing was written;
4. after an unclear failure the write stays in doubt for ``Policy.window`` seconds, longer than the
   upstream's worst-case request time. Until then it is only looked for, never sent again. A process
   that may wait (a one-shot Actions run) keeps looking for ``Policy.patience`` seconds; one that must
   answer now (the web process) gives up at once with the send's own transient error, and its next
   attempt or the sender's redelivery only looks (``WriteInDoubt`` while nothing shows up). Once the
   window has passed with nothing found, the write surely died and may be sent again.

The ledger is in memory: one per process, shared by every delivery and sweep item of that process.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

import anyio

from bridge import logs, retry
from bridge.errors import BudgetExhausted, DeadlineExceeded, UpstreamError, WriteInDoubt

__all__ = ["REASON", "Ledger", "Policy", "Write", "WriteInDoubt", "in_doubt", "write_once"]

T = TypeVar("T")
log = logs.get_logger()

REASON = "write_in_doubt"


def in_doubt(exc: UpstreamError) -> bool:
    """Whether a failed write may still have happened: no clear answer came back, or a server error did.

    The one classification of write failures. Only a refusal proves that nothing was written: one we
    raised ourselves before sending (the write budget, the deadline), or a 4xx (429 included). A timeout,
    a dropped connection, a 5xx, or a success whose body we could not read all leave the write in doubt.
    """
    if isinstance(exc, (BudgetExhausted, DeadlineExceeded)):
        return False
    return not 400 <= (exc.status or 0) < 500  # no answer, a 5xx, or a 2xx we could not read


@dataclass(frozen=True)
class Policy:
    """How long a write stays in doubt, and how long this process may keep looking for it."""

    window: float
    patience: float = 0.0
    poll: float = 2.0


class Ledger:
    """Which writes are in doubt, and until when (monotonic seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[Hashable, float] = {}

    def hold(self, key: Hashable, seconds: float) -> None:
        self._until[key] = self._clock() + seconds

    def remaining(self, key: Hashable) -> float:
        """Seconds ``key`` stays in doubt (0 when it may be sent)."""
        until = self._until.get(key)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._until[key]
            return 0.0
        return left

    def release(self, key: Hashable) -> None:
        self._until.pop(key, None)


@dataclass(frozen=True)
class Write(Generic[T]):
    """One write that must happen once: its identity, how to see its effect, and how to make it."""

    key: Hashable  # the same for every attempt, delivery and sweep that means this one write
    api: str
    operation: str
    look: Callable[[], Awaitable[T | None]]
    send: Callable[[], Awaitable[T]]


async def write_once(
    write: Write[T],
    ledger: Ledger,
    policy: Policy,
    *,
    looked: bool = False,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> tuple[T, bool]:
    """The write's result and whether this call sent it; ``WriteInDoubt`` while it may still land.

    ``looked`` says the caller has just read fresh state that lacks the write, which saves one look.
    Clear transient failures are tried again under ``bridge.retry`` (each retry looks first). A process
    that waits (``patience`` > 0) and still cannot see the write stops there; one that answers at once
    tries again only once the window has closed, if its deadline allows.
    """
    first = looked

    async def attempt() -> tuple[T, bool]:
        nonlocal first
        skip, first = first, False
        return await _attempt(write, ledger, policy, skip, sleep)

    return await retry.call(attempt, again_in_doubt=policy.patience == 0)


async def _attempt(
    write: Write[T], ledger: Ledger, policy: Policy, looked: bool, sleep: Callable[[float], Awaitable[None]]
) -> tuple[T, bool]:
    sent = False
    if ledger.remaining(write.key) <= 0:
        found = None if looked else await write.look()
        if found is not None:
            return found, False
        ledger.hold(write.key, policy.window)  # from before the send: a cancelled send stays in doubt
        try:
            result = await write.send()
        except UpstreamError as exc:
            if not in_doubt(exc):
                ledger.release(write.key)
                raise
            ledger.hold(write.key, policy.window)  # the window runs from the unclear answer
            log.warning(
                "write_in_doubt",
                api=write.api,
                operation=write.operation,
                reason=exc.reason,
                status=exc.status,
            )
            if policy.patience <= 0:
                raise  # answer now; the next attempt (a retry, a redelivery) only looks while in doubt
            sent = True
        else:
            ledger.release(write.key)
            return result, True
    return await _look_while_in_doubt(write, ledger, policy, sleep), sent


async def _look_while_in_doubt(
    write: Write[T], ledger: Ledger, policy: Policy, sleep: Callable[[float], Awaitable[None]]
) -> T:
    """Look until the write shows up, this process's patience runs out, or the window closes."""
    waited = 0.0
    while True:
        found = await write.look()
        if found is not None:
            ledger.release(write.key)
            log.info("write_in_doubt_found", api=write.api, operation=write.operation)
            return found
        left = ledger.remaining(write.key)
        pause = min(policy.poll, left)
        if left <= 0 or waited + pause > policy.patience:
            raise WriteInDoubt(write.api, write.operation, REASON, retry_after=max(1.0, round(left)))
        await sleep(pause)
        waited += pause
