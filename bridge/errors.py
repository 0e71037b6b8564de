"""Errors that carry data. The web layer turns them into HTTP answers in one place (``app.py``).

``reason`` doubles as the log key and the metric label; ``hint`` names the setting an operator must fix.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """A call to FreeScout or GitHub failed."""

    transient = False

    def __init__(
        self,
        api: str,
        operation: str,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(f"{api} {operation}: {reason}" + (f" (HTTP {status})" if status else ""))
        self.api = api
        self.operation = operation
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.hint = hint


class TransientUpstreamError(UpstreamError):
    """Worth another try later: 5xx, 429, rate limits, timeouts, dropped connections."""

    transient = True


class PermanentUpstreamError(UpstreamError):
    """Retrying will not help until an operator fixes something (``hint`` says what)."""


class BudgetExhausted(TransientUpstreamError):
    """We hold back a GitHub write: the content budget, a ``retry-after`` window or the deadline."""


class DeadlineExceeded(TransientUpstreamError):
    """The delivery's time budget ran out before the work finished; a redelivery will finish it."""


class WriteInDoubt(TransientUpstreamError):
    """A write may still land, so it is not sent again yet; a later attempt looks for it first
    (``bridge.in_doubt``)."""


def explain(exc: UpstreamError) -> str:
    """One line for an operator: which call failed, why, and the fix when there is one."""
    text = f"{exc.api} {exc.operation} failed: {exc.reason}" + (f" (HTTP {exc.status})" if exc.status else "")
    return text + (f" — {exc.hint}" if exc.hint else "")
