"""The GitHub webhook transport in process: real octokit payloads, a recording stand-in for the fan-out.

Accepting is synchronous, so dedupe and scheduling are checked without HTTP; the route itself is tested
end to end in tests/e2e/test_github_webhook.py.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from bridge.fan_out import FanOutReport, TicketResult
from bridge.github_deliveries import DeliveryRecord, GitHubDeliveries
from bridge.github_webhook import DeliveryError
from bridge.signature import Verifier, sign_github
from tests.unit.return_path.samples import REPO, gh

SECRET = "s3cret"


@dataclass
class Live:
    live: bool = True


@dataclass
class FakeReturnPath:
    """Records each pass; ``gate`` holds passes open; ``fail`` makes one ticket fail."""

    repository: str = REPO
    target: Live = field(default_factory=Live)
    passes: list[int] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    fail: bool = False

    async def reconcile(self, number: int, *, updated_at: str = "") -> FanOutReport:
        self.passes.append(number)
        await self.gate.wait()
        report = FanOutReport(f"{self.repository}#{number}")
        report.tickets.append(TicketResult(1, "failed" if self.fail else "updated", "x"))
        return report


def headers(body: bytes, event: str, delivery: str) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign_github(body, SECRET),
        "Content-Type": "application/json",
    }


def send(deliveries: GitHubDeliveries, name: str, delivery: str, **changes: Any) -> tuple[int, str, str]:
    payload = gh(name)
    payload.update(changes)
    body = json.dumps(payload).encode()
    answer = deliveries.accept(headers(body, name.split(".")[0], delivery), body)
    return answer.status, answer.outcome, answer.reason


def make(rp: FakeReturnPath) -> GitHubDeliveries:
    return GitHubDeliveries(Verifier([SECRET]), rp)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_delivery_is_accepted_once_and_its_copies_are_duplicates() -> None:
    rp = FakeReturnPath()
    deliveries = make(rp)
    assert send(deliveries, "issues.closed", "d-1") == (202, "accepted", "issues.closed")
    assert send(deliveries, "issues.closed", "d-1") == (200, "duplicate", "fan_out_running")
    rp.gate.set()
    await deliveries.idle()
    assert send(deliveries, "issues.closed", "d-1") == (200, "duplicate", "fan_out_done")
    assert rp.passes == [1]


@pytest.mark.anyio
async def test_a_redelivery_after_a_failed_fan_out_runs_it_again() -> None:
    rp = FakeReturnPath(fail=True)
    rp.gate.set()
    deliveries = make(rp)
    send(deliveries, "issues.closed", "d-1")
    await deliveries.idle()
    assert send(deliveries, "issues.closed", "d-1")[:2] == (202, "accepted")
    await deliveries.idle()
    assert rp.passes == [1, 1]


@pytest.mark.anyio
async def test_deliveries_for_one_issue_join_the_pass_waiting_to_start() -> None:
    rp = FakeReturnPath()
    deliveries = make(rp)
    send(deliveries, "issues.closed", "d-1")  # starts, held by the gate
    await asyncio.sleep(0)
    send(deliveries, "issues.reopened", "d-2")  # waits for d-1's pass
    assert send(
        deliveries,
        "issue_comment.created",
        "d-3",
        comment={**gh("issue_comment.created")["comment"], "body": "/support done"},
    ) == (202, "accepted", "joined_waiting_pass")
    rp.gate.set()
    await deliveries.idle()
    assert rp.passes == [1, 1]


@pytest.mark.parametrize(
    ("name", "changes", "reason"),
    [
        ("ping", {}, "ping"),
        ("issues.labeled", {}, "action_not_handled"),
        ("issue_comment.created", {}, "not_for_support"),
        ("issues.closed", {"repository": {"full_name": "someone/else"}}, "other_repository"),
    ],
)
def test_what_the_return_path_does_not_handle_is_acknowledged_with_its_reason(
    name: str, changes: dict[str, Any], reason: str
) -> None:
    rp = FakeReturnPath()
    status, outcome, why = send(make(rp), name, "d-9", **changes)
    assert status == 200 and why == reason and outcome in ("ignore", "pong")
    assert rp.passes == []


def test_a_wrong_signature_is_refused_before_anything_is_parsed() -> None:
    body = b"not even json"
    bad = {**headers(body, "issues", "d-1"), "X-Hub-Signature-256": sign_github(body, "other")}
    with pytest.raises(DeliveryError) as refused:
        make(FakeReturnPath()).accept(bad, body)
    assert (refused.value.status, refused.value.reason) == (401, "signature_mismatch")


def test_the_record_of_delivery_ids_is_bounded_oldest_first() -> None:
    record = DeliveryRecord(size=3)
    for k in range(5):
        record.set(f"d-{k}", "done")
    assert len(record) == 3 and record.get("d-0") is None and record.get("d-4") == "done"
