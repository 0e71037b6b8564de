"""Fault injection in the local FreeScout simulator: the ``/api`` routes fail on demand, ``/_sim`` never."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import freescout_sim
from tests.harness import FreeScout, running_freescout

API_KEY = freescout_sim.FreeScoutSimConfig.api_key
NOTE = {"type": "note", "text": "<p>hello</p>", "user": 9}


@pytest.fixture
def freescout() -> Iterator[FreeScout]:
    with running_freescout(freescout_sim.FreeScoutSimConfig(retry_delays=())) as sim:
        yield sim


@pytest.fixture
def api(freescout: FreeScout) -> Iterator[httpx.Client]:
    headers = {"X-FreeScout-API-Key": API_KEY, "Accept": "application/json"}
    with httpx.Client(base_url=freescout.url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def control(freescout: FreeScout) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=freescout.url, timeout=10) as client:
        yield client


@pytest.fixture
def conversation(control: httpx.Client) -> int:
    body = {"mailboxId": 2, "customerEmail": "dana@example.com", "subject": "s", "tags": ["bug"]}
    response = control.post("/_sim/conversations", json=body)
    assert response.status_code == 201
    return int(response.json()["id"])


def fault(control: httpx.Client, **spec: Any) -> dict[str, Any]:
    response = control.post("/_sim/faults", json=spec)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def notes(control: httpx.Client, conversation: int) -> list[str]:
    conv = next(c for c in control.get("/_sim/state").json()["conversations"] if c["id"] == conversation)
    return [t["body"] for t in conv["_embedded"]["threads"] if t["type"] == "note"]


def field_value(control: httpx.Client, conversation: int) -> str:
    conv = next(c for c in control.get("/_sim/state").json()["conversations"] if c["id"] == conversation)
    return str(next(f["value"] for f in conv["customFields"] if f["id"] == 7))


def test_status_fault_hits_once_and_never_touches_the_control_plane(
    api: httpx.Client, control: httpx.Client, conversation: int
) -> None:
    fault(control, path=".*", kind="status", status=503)
    assert control.get("/_sim/state").status_code == 200  # /_sim is never faulted
    first = api.get(f"/api/conversations/{conversation}")
    assert first.status_code == 503 and first.json() == {"message": "Service Unavailable"}
    assert api.get(f"/api/conversations/{conversation}").status_code == 200
    listed = control.get("/_sim/faults").json()["faults"]
    assert [(f["kind"], f["seen"], f["fired"]) for f in listed] == [("status", 1, 1)]


def test_a_failed_write_is_not_performed(api: httpx.Client, control: httpx.Client, conversation: int) -> None:
    fault(control, method="POST", path=r"/threads$", kind="status", status=500)
    assert api.post(f"/api/conversations/{conversation}/threads", json=NOTE).status_code == 500
    assert notes(control, conversation) == []


def test_lost_response_performs_the_write_but_hides_it(
    api: httpx.Client, control: httpx.Client, conversation: int
) -> None:
    fault(control, method="POST", path=r"/threads$", kind="lost_response")
    with pytest.raises(httpx.TransportError):
        api.post(f"/api/conversations/{conversation}/threads", json=NOTE)
    assert notes(control, conversation) == ["<p>hello</p>"]
    recorded = control.get("/_sim/requests").json()["requests"][-1]
    assert recorded["status"] is None and recorded["fault"]["hidden_status"] == 201


def test_reset_drops_the_connection_without_writing(
    api: httpx.Client, control: httpx.Client, conversation: int
) -> None:
    fault(control, method="PUT", path=r"/custom_fields$", kind="reset")
    value = {"customFields": [{"id": 7, "value": "https://github.com/acme/app/issues/1"}]}
    with pytest.raises(httpx.TransportError):
        api.put(f"/api/conversations/{conversation}/custom_fields", json=value)
    assert field_value(control, conversation) == ""
    assert api.put(f"/api/conversations/{conversation}/custom_fields", json=value).status_code == 204
    assert field_value(control, conversation) == "https://github.com/acme/app/issues/1"


def test_rate_429_with_and_without_retry_after(api: httpx.Client, control: httpx.Client) -> None:
    fault(control, method="GET", path=r"^/api/mailboxes$", kind="rate_429")
    bare = api.get("/api/mailboxes")
    assert bare.status_code == 429 and "retry-after" not in bare.headers
    fault(control, method="GET", path=r"^/api/mailboxes$", kind="rate_429", retry_after=7)
    assert api.get("/api/mailboxes").headers["retry-after"] == "7"
    assert api.get("/api/mailboxes").status_code == 200


def test_slow_write_lands_even_after_the_client_gave_up(
    freescout: FreeScout, api: httpx.Client, control: httpx.Client, conversation: int
) -> None:
    fault(control, method="POST", path=r"/threads$", kind="slow", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        api.post(f"/api/conversations/{conversation}/threads", json=NOTE, timeout=0.1)
    # The write happens once the delay is over; a request queued behind it sees it.
    fault(control, method="GET", path=r"^/api/conversations/\d+$", kind="slow", delay=0.8)
    fresh = api.get(f"/api/conversations/{conversation}", params={"embed": "threads"}).json()
    assert [t["type"] for t in fresh["_embedded"]["threads"]].count("note") == 1


def test_hang_performs_the_write_then_holds_the_answer(
    api: httpx.Client, control: httpx.Client, conversation: int
) -> None:
    fault(control, method="POST", path=r"/threads$", kind="hang", delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        api.post(f"/api/conversations/{conversation}/threads", json=NOTE, timeout=0.3)
    assert notes(control, conversation) == ["<p>hello</p>"]
    recorded = control.get("/_sim/requests").json()["requests"][-1]
    assert recorded["path"].endswith("/threads") and recorded["status"] is None  # still held back


def test_skip_times_clear_and_unknown_kinds(api: httpx.Client, control: httpx.Client) -> None:
    fault(control, method="GET", path=r"^/api/mailboxes$", kind="status", status=500, skip=1, times=2)
    assert [api.get("/api/mailboxes").status_code for _ in range(4)] == [200, 500, 500, 200]
    fault(control, path=".*", kind="reset", times=0)
    assert control.delete("/_sim/faults").status_code == 204
    assert api.get("/api/mailboxes").status_code == 200
    refused = control.post("/_sim/faults", json={"kind": "secondary_limit"})  # GitHub's, not FreeScout's
    assert refused.status_code == 400 and "hang" in refused.json()["error"]
