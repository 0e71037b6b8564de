"""The one retry policy: transient upstream errors only, bounded by attempts and by the delivery deadline.

The deadline lives in a context variable set at the start of a delivery (or a sweep item), so every call
below it shares one budget without threading it through each signature. ``Retry-After`` always wins over
our own backoff; if honouring it would pass the deadline we stop and let FreeScout redeliver.
"""

from __future__ import annotations

import contextvars
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from bridge.errors import DeadlineExceeded, UpstreamError, WriteInDoubt

T = TypeVar("T")
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("bridge_deadline", default=None)
MAX_ATTEMPTS = 4


@contextmanager
def deadline_in(seconds: float) -> Iterator[None]:
    """Give everything inside this block ``seconds`` of wall time in total."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline, or ``None`` outside any deadline."""
    at = _deadline.get()
    return None if at is None else at - time.monotonic()


def check_deadline(what: str) -> None:
    left = remaining()
    if left is not None and left <= 0:
        raise DeadlineExceeded("bridge", what, "deadline_exceeded", retry_after=60)


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, UpstreamError) and exc.transient and not isinstance(exc, DeadlineExceeded)


def _is_transient_and_settled(exc: BaseException) -> bool:
    return _is_transient(exc) and not isinstance(exc, WriteInDoubt)


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, UpstreamError) and exc.retry_after is not None:
        return float(exc.retry_after)
    base: float = min(2.0, 0.2 * 2 ** (state.attempt_number - 1))
    return base / 2 + random.uniform(0, base / 2)  # noqa: S311 - jitter, not security


def _stop(state: RetryCallState) -> bool:
    if state.attempt_number >= MAX_ATTEMPTS:
        return True
    left = remaining()
    return left is not None and (state.upcoming_sleep or 0) >= left - 0.25


async def call(operation: Callable[[], Awaitable[T]], *, again_in_doubt: bool = True) -> T:
    """Run ``operation`` (idempotent, or made safe by ``bridge.in_doubt``) under the retry policy.

    ``again_in_doubt=False`` ends at a ``WriteInDoubt``: a one-shot run that has already waited out the
    write's window fails rather than send it again.
    """
    retryable = _is_transient if again_in_doubt else _is_transient_and_settled
    retrying = AsyncRetrying(retry=retry_if_exception(retryable), wait=_wait, stop=_stop, reraise=True)
    async for attempt in retrying:
        with attempt:
            check_deadline("retry")
            return await operation()
    raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover
