"""The one protocol for writes whose outcome is unknown (``bridge.in_doubt``), in process.

A fake upstream records every look and send; a write "lands" when the test says so, which is how a slow
upstream that stores a write after the client gave up looks from the client's side.
"""

from __future__ import annotations

import anyio
import pytest

from bridge.errors import (
    BudgetExhausted,
    DeadlineExceeded,
    PermanentUpstreamError,
    TransientUpstreamError,
    UpstreamError,
)
from bridge.in_doubt import Ledger, Policy, Write, WriteInDoubt, in_doubt, write_once


class Upstream:
    """One write target: ``stored`` is what a look sees; ``fail`` is what the next send raises."""

    def __init__(self) -> None:
        self.stored: str | None = None
        self.looks = 0
        self.sends = 0
        self.fail: list[UpstreamError] = []
        self.lands_after_looks: int | None = None  # the failed send is stored after this many looks

    async def look(self) -> str | None:
        self.looks += 1
        if self.lands_after_looks is not None and self.looks >= self.lands_after_looks:
            self.stored = self.stored or "ticket-1"
        return self.stored

    async def send(self) -> str:
        self.sends += 1
        if self.fail:
            raise self.fail.pop(0)
        self.stored = f"ticket-{self.sends}"
        return self.stored

    def write(self) -> Write[str]:
        return Write(("ticket", 7), "freescout", "create_conversation", look=self.look, send=self.send)


def timeout() -> TransientUpstreamError:
    return TransientUpstreamError("freescout", "create_conversation", "timeout")


@pytest.mark.parametrize(
    ("error", "doubt"),
    [
        (TransientUpstreamError("x", "w", "timeout"), True),
        (TransientUpstreamError("x", "w", "connection_error"), True),
        (TransientUpstreamError("x", "w", "http_502", status=502), True),
        (PermanentUpstreamError("x", "w", "http_500", status=500), True),
        (TransientUpstreamError("x", "w", "ChunkedEncodingError"), True),  # an answer we could not read
        (TransientUpstreamError("x", "w", "invalid_json", status=201), True),
        (TransientUpstreamError("x", "w", "rate_limited", status=429), False),
        (PermanentUpstreamError("x", "w", "http_422", status=422), False),
        (PermanentUpstreamError("x", "w", "http_404", status=404), False),
        (BudgetExhausted("github", "w", "content_budget"), False),
        (DeadlineExceeded("bridge", "w", "deadline_exceeded"), False),
    ],
)
def test_one_classification_of_write_failures(error: UpstreamError, doubt: bool) -> None:
    assert in_doubt(error) is doubt


def test_a_write_that_is_already_there_is_not_sent() -> None:
    up = Upstream()
    up.stored = "ticket-0"
    result = anyio.run(write_once, up.write(), Ledger(), Policy(window=5))
    assert result == ("ticket-0", False) and up.sends == 0


def test_a_clear_success_is_sent_once_and_settled() -> None:
    up, ledger = Upstream(), Ledger()
    assert anyio.run(write_once, up.write(), ledger, Policy(window=5)) == ("ticket-1", True)
    assert up.sends == 1 and ledger.remaining(("ticket", 7)) == 0


def test_looked_skips_the_first_look() -> None:
    up = Upstream()

    async def go() -> tuple[str, bool]:
        return await write_once(up.write(), Ledger(), Policy(window=5), looked=True)

    assert anyio.run(go) == ("ticket-1", True) and up.looks == 0


def test_a_refusal_proves_nothing_was_written_and_frees_the_write() -> None:
    up, ledger = Upstream(), Ledger()
    up.fail = [PermanentUpstreamError("freescout", "create_conversation", "http_422", status=422)]
    with pytest.raises(PermanentUpstreamError):
        anyio.run(write_once, up.write(), ledger, Policy(window=5))
    assert ledger.remaining(("ticket", 7)) == 0


def test_in_doubt_in_the_web_process_gives_up_at_once_and_never_resends_inside_the_window() -> None:
    up, ledger = Upstream(), Ledger()
    up.fail = [timeout()]
    policy = Policy(window=60)  # patience 0: the sender's redelivery looks again

    async def deliver() -> tuple[str, bool]:
        from bridge import retry

        with retry.deadline_in(2):
            return await write_once(up.write(), ledger, policy)

    with pytest.raises(WriteInDoubt) as doubt:  # the retry right after the timeout only looked
        anyio.run(deliver)
    assert doubt.value.transient and doubt.value.retry_after is not None and doubt.value.retry_after > 50
    assert up.sends == 1
    for _ in range(3):  # redeliveries inside the window only look
        with pytest.raises(WriteInDoubt):
            anyio.run(deliver)
    assert up.sends == 1
    up.stored = "ticket-1"  # the slow upstream finally stored it
    assert anyio.run(deliver) == ("ticket-1", False)
    assert up.sends == 1 and ledger.remaining(("ticket", 7)) == 0


def test_a_one_shot_run_waits_for_a_slow_write_to_land() -> None:
    up, ledger = Upstream(), Ledger()
    up.fail = [timeout()]
    up.lands_after_looks = 3
    result = anyio.run(write_once, up.write(), ledger, Policy(window=5, patience=5, poll=0.01))
    assert result == ("ticket-1", True) and up.sends == 1


def test_a_one_shot_run_still_in_doubt_fails_instead_of_resending() -> None:
    up, ledger = Upstream(), Ledger()
    up.fail = [timeout()]
    with pytest.raises(WriteInDoubt):
        anyio.run(write_once, up.write(), ledger, Policy(window=0.2, patience=0.2, poll=0.05))
    assert up.sends == 1


def test_after_the_window_a_write_that_never_landed_is_sent_again() -> None:
    up, ledger = Upstream(), Ledger()
    up.fail = [timeout()]
    with pytest.raises(WriteInDoubt):
        anyio.run(write_once, up.write(), ledger, Policy(window=0.05, patience=0.05, poll=0.05))
    anyio.run(anyio.sleep, 0.1)
    assert anyio.run(write_once, up.write(), ledger, Policy(window=0.05)) == ("ticket-2", True)
    assert up.sends == 2


def test_a_send_cancelled_half_way_stays_in_doubt() -> None:
    """A delivery answered at its hard deadline leaves its send running: nobody may send it again."""
    ledger = Ledger()
    started = anyio.Event()

    async def hanging_send() -> str:
        started.set()
        await anyio.sleep(10)
        return "never"

    async def nothing() -> str | None:
        return None

    write = Write(("issue", 1), "github", "create_issue", look=nothing, send=hanging_send)

    async def go() -> None:
        with anyio.move_on_after(0.05):
            await write_once(write, ledger, Policy(window=30))

    anyio.run(go)
    assert ledger.remaining(("issue", 1)) > 20
