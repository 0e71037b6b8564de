"""The status page's memory: a bounded ring of decisions and per-minute outcome counts over a day."""

from __future__ import annotations

from bridge.decisions import Activity, DecisionRing


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_ring_keeps_only_the_newest_decisions_newest_first() -> None:
    ring = DecisionRing(size=3, clock=Clock())
    for cid in range(1, 6):
        ring.record("webhook", "convo.created", cid, "ignore", "no_trigger_tag")
    assert [r.conversation_id for r in ring.recent()] == [5, 4, 3]
    assert ring.size == 3


def test_decisions_filter_by_conversation_and_outcome() -> None:
    ring = DecisionRing(clock=Clock())
    ring.record("webhook", "convo.created", 1287, "ignore", "no_trigger_tag")
    ring.record("webhook", "convo.created", 1288, "linked", "tag:bug", "https://github.com/acme/app/issues/7")
    ring.record("sweep", "sweep", 1287, "held_back", "before_cutoff")
    ring.record("webhook", "convo.created", None, "refused", "signature_mismatch")
    assert [r.outcome for r in ring.recent(conversation_id=1287)] == ["held_back", "ignore"]
    assert [r.conversation_id for r in ring.recent(outcome="linked")] == [1288]
    assert ring.recent(conversation_id=1287, outcome="linked") == []
    assert ring.recent(limit=1)[0].outcome == "refused"
    assert ring.outcomes() == ["held_back", "ignore", "linked", "refused"]


def test_counts_cover_the_last_hour_and_day_and_forget_older_minutes() -> None:
    clock = Clock()
    ring = DecisionRing(size=2, clock=clock)
    ring.record("webhook", "convo.created", 1, "linked", "tag:bug")
    clock.now += 2 * 3600
    for _ in range(3):
        ring.record("webhook", "convo.created", 2, "ignore", "no_trigger_tag")
    clock.now += 60
    ring.record("webhook", "convo.created", 3, "ignore", "no_trigger_tag")
    assert ring.counts(3600) == {"ignore": 4}
    assert ring.counts(86400) == {"ignore": 4, "linked": 1}, "counts outlive the ring's 2 entries"
    clock.now += 86400
    assert ring.counts(86400) == {}
    assert ring.outcomes() == ["ignore", "linked"], "still inside the bounded per-minute buckets"


def test_the_per_minute_buckets_are_bounded_to_a_day() -> None:
    clock = Clock()
    ring = DecisionRing(clock=clock)
    for _ in range(3 * 24 * 60):
        ring.record("webhook", "convo.created", 1, "ignore", "x")
        clock.now += 60
    assert ring.counts(10 * 86400) == {"ignore": 24 * 60}


def test_activity_remembers_the_last_sweep_and_the_next() -> None:
    clock = Clock()
    activity = Activity(clock)
    assert activity.last_sweep is None and activity.next_sweep_at is None
    activity.sweep_scheduled(300)
    activity.sweep_ended("ok", "schedule", dry_run=False)
    assert activity.next_sweep_at == clock.now + 300
    assert activity.last_sweep is not None and activity.last_sweep.result == "ok"
