"""GitHub write etiquette with a fake clock, and the one redaction processor."""

from __future__ import annotations

import pytest
import structlog

from bridge.errors import BudgetExhausted
from bridge.github_gate import WriteGate
from bridge.logs import Redactor


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def gate(clock: FakeClock, **kw: float) -> WriteGate:
    return WriteGate(clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


def test_writes_are_spaced_one_second_apart() -> None:
    clock = FakeClock()
    g = gate(clock, spacing=1.0)
    for _ in range(3):
        with g.write(content=True, max_wait=None):
            pass
    assert clock.slept == [1.0, 1.0]


def test_spacing_beyond_the_deadline_is_refused_not_queued() -> None:
    clock = FakeClock()
    g = gate(clock, spacing=5.0)
    with g.write(content=False, max_wait=None):
        pass
    with pytest.raises(BudgetExhausted) as caught, g.write(content=False, max_wait=2.0):
        pass
    assert caught.value.retry_after == 5


def test_content_budget_per_minute_answers_with_retry_after() -> None:
    clock = FakeClock()
    g = gate(clock, spacing=0.0, per_minute=3, per_hour=100)
    for _ in range(3):
        with g.write(content=True, max_wait=None):
            clock.now += 1
    with pytest.raises(BudgetExhausted) as caught, g.write(content=True, max_wait=None):
        pass
    assert caught.value.reason == "content_budget" and 0 < (caught.value.retry_after or 0) <= 60
    with g.write(content=False, max_wait=None):  # reads/labels are not content creation
        pass
    clock.now += 60
    with g.write(content=True, max_wait=None):
        pass


def test_budget_left_counts_content_writes_per_window() -> None:
    clock = FakeClock()
    g = gate(clock, spacing=0.0, per_minute=3, per_hour=5)
    assert g.budget_left() == {"minute": 3, "hour": 5}
    for _ in range(3):
        with g.write(content=True, max_wait=None):
            clock.now += 1
    with g.write(content=False, max_wait=None):
        pass
    assert g.budget_left() == {"minute": 0, "hour": 2}
    clock.now += 60
    assert g.budget_left() == {"minute": 3, "hour": 2}
    clock.now += 3600
    assert g.budget_left() == {"minute": 3, "hour": 5}


def test_no_write_inside_a_retry_after_window() -> None:
    clock = FakeClock()
    g = gate(clock, spacing=0.0)
    g.back_off(30)
    with pytest.raises(BudgetExhausted) as caught, g.write(content=True, max_wait=5):
        pass
    assert caught.value.reason == "retry_after_window"
    with g.write(content=True, max_wait=None):
        pass
    assert clock.slept == [30]


def test_redactor_scrubs_secrets_emails_and_sensitive_keys() -> None:
    redactor = Redactor(["s3cr3t-token-value"])
    with structlog.testing.capture_logs(processors=[redactor]) as logs:
        structlog.get_logger().info(
            "x",
            body="{raw}",
            api_key="k",
            note="failed with s3cr3t-token-value for dana@example.com",
            nested={"authorization": "Bearer q", "list": ["dana@example.com"]},
        )
    entry = logs[0]
    assert entry["body"] == entry["api_key"] == "[redacted]"
    assert "s3cr3t" not in entry["note"] and "dana@" not in entry["note"]
    assert entry["nested"] == {"authorization": "[redacted]", "list": ["[email]"]}


def test_the_in_doubt_ledger_holds_then_frees() -> None:
    from bridge.in_doubt import Ledger

    clock = FakeClock()
    q = Ledger(clock=clock)
    assert q.remaining("k") == 0
    q.hold("k", 30)
    clock.now += 10
    assert q.remaining("k") == 20
    clock.now += 21
    assert q.remaining("k") == 0
    q.hold("k", 30)
    q.release("k")
    assert q.remaining("k") == 0


def test_the_write_slot_is_reentrant_for_look_up_then_create() -> None:
    clock = FakeClock()
    g = gate(clock, spacing=0.0)
    with g.slot(None), g.write(content=True, max_wait=None):
        pass
