"""The web process's sweep runner and ``/admin/sweep``, in process, against the local simulators.

One pass at a time per web process: a request for the same pass joins it, a different one is told to wait
(409), the schedule goes through the same runner, the last passes' results stay for polling, a dry run
writes nothing, and every request needs ``BRIDGE_ADMIN_TOKEN`` (these routes trigger writes). A pass's
result is data (its report or its error); the CLI's ``sweep_result`` turns it into text and an exit code.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from bridge.admin import BadRequest, parse_sweep_request
from bridge.app import create_app
from bridge.cli.commands import sweep_result
from bridge.cli.doctor import Exit
from bridge.cli.services import services
from bridge.metrics import Metrics
from bridge.settings import Settings, load_settings
from bridge.sweep_runner import KEEP_RESULTS, SweepBusy, SweepRequest, SweepResult, SweepRunner
from sandbox.serve import ServerThread
from tests.cli.test_sync_sweep import field_value
from tests.harness import Deployment, wait_for

TOKEN = "admin-token-sweep-7c2b"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIVE = {"FLAG_FREESCOUT_GITHUB_AUTOLINK": "true"}
ISSUES_PATH = r"^/repos/acme/app/issues$"


@contextmanager
def web_process(deployment: Deployment, **env: str) -> Iterator[httpx.Client]:
    """The web app itself on a loopback port, and a client for it."""
    settings = load_settings({**deployment.env, "BRIDGE_ADMIN_TOKEN": TOKEN, **LIVE, **env})
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        yield client


def slow_creates(deployment: Deployment, delay: float, times: int = 1) -> None:
    spec = {"method": "POST", "path": ISSUES_PATH, "kind": "slow", "delay": delay, "times": times}
    deployment.gh.fault(**spec)


def creates_sent(deployment: Deployment) -> int:
    return sum(r["method"] == "POST" and r["path"].endswith("/issues") for r in deployment.gh.requests())


def finished(client: httpx.Client, sweep_id: str, timeout: float = 30) -> dict[str, Any]:
    """Poll ``GET /admin/sweep/{id}`` until the pass ends."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(f"/admin/sweep/{sweep_id}", headers=AUTH)
        assert answer.status_code == 200, answer.text
        state: dict[str, Any] = answer.json()
        if state["state"] != "running":
            return state
        assert time.monotonic() < deadline, f"sweep {sweep_id} still running after {timeout} s"
        time.sleep(0.05)


def start(client: httpx.Client, body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = (
        client.post("/admin/sweep", json=body, headers=AUTH)
        if body
        else client.post("/admin/sweep", headers=AUTH)
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/admin/sweep/{answer.json()['sweep_id']}"
    started: dict[str, Any] = answer.json()
    return started


def as_cli(state: dict[str, Any]) -> tuple[Exit, str]:
    """What ``freescout-bridge sweep`` makes of a finished pass: its exit code and text."""
    result = sweep_result(SweepResult.from_dict(state), {})
    return result.exit, result.text


# -- the token ----------------------------------------------------------------------------------------


def test_without_an_admin_token_the_admin_routes_are_off(deployment: Deployment) -> None:
    settings = load_settings({**deployment.env, **LIVE})
    assert settings.admin_token is None
    deployment.fs.email(tags=["bug"], mailbox=2)
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        for answer in (
            client.post("/admin/sweep"),
            client.post("/admin/sweep", headers={"Authorization": "Bearer anything"}),
            client.get("/admin/sweep/abc"),
        ):
            assert answer.status_code == 403
            assert answer.json()["error"] == "admin_disabled"
            assert "BRIDGE_ADMIN_TOKEN" in answer.json()["message"]
        assert client.get("/metrics").status_code == 200  # unlike the sweep, metrics stay open without it
    assert deployment.gh.writes() == []


def test_the_admin_routes_need_the_bearer_token(deployment: Deployment) -> None:
    deployment.fs.email(tags=["bug"], mailbox=2)
    with web_process(deployment) as client:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
            refused = client.post("/admin/sweep", headers=headers)
            assert refused.status_code == 401, headers
            assert (
                set(refused.json()) == {"error", "message"}
                and refused.headers["www-authenticate"] == "Bearer"
            )
            assert client.get("/admin/sweep/abc", headers=headers).status_code == 401
        assert client.get("/admin/sweep/abc", headers=AUTH).status_code == 404
    assert deployment.gh.writes() == []


# -- the body -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{", "invalid_json"),
        (b"[]", "invalid_request"),
        (b'{"dry_run": "yes"}', "invalid_request"),
        (b'{"dryrun": true}', "invalid_request"),
        (b'{"mailboxes": "ops@example.com"}', "invalid_request"),
        (b'{"mailboxes": [true]}', "invalid_request"),
        (b'{"mailboxes": [-1]}', "invalid_request"),
        (b'{"mailboxes": [""]}', "invalid_request"),
        (b'{"mailboxes": [[1]]}', "invalid_request"),
        (b'{"mailboxes": [' + b"1," * 100 + b"1]}", "invalid_request"),
    ],
)
def test_bad_bodies_are_refused(raw: bytes, error: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_sweep_request(raw)
    assert refused.value.error == error


def test_bodies_that_parse() -> None:
    assert parse_sweep_request(b"") == SweepRequest()
    assert parse_sweep_request(b"{}") == SweepRequest()
    parsed = parse_sweep_request(b'{"dry_run": true, "mailboxes": [2, "2", " Ops@Example.com "]}')
    assert parsed == SweepRequest(dry_run=True, mailboxes=(2, "ops@example.com"))
    assert parsed.same_pass(SweepRequest(dry_run=True, mailboxes=("ops@example.com", 2)))
    # Digits that are not ASCII ("²".isdigit() is True) are names, never mailbox ids or a crash.
    assert parse_sweep_request('{"mailboxes": ["²", "١٢"]}'.encode()).mailboxes == ("²", "١٢")
    assert not parsed.same_pass(SweepRequest(dry_run=False, mailboxes=(2, "ops@example.com")))


def test_a_bad_body_is_answered_400_and_starts_nothing(deployment: Deployment) -> None:
    deployment.fs.email(tags=["bug"], mailbox=2)
    with web_process(deployment) as client:
        for raw in (b"{not json", b'{"dry_run": 1}', b"x" * 20_000):
            answer = client.post("/admin/sweep", content=raw, headers=AUTH)
            assert answer.status_code == 400, raw[:20]
            assert set(answer.json()) == {"error", "message"}
    assert deployment.gh.requests() == []


# -- passes -------------------------------------------------------------------------------------------


def test_a_second_request_joins_the_running_pass_and_a_different_one_waits(deployment: Deployment) -> None:
    cid = deployment.fs.email(tags=["bug"], mailbox=2)["id"]
    slow_creates(deployment, 2.0)
    with web_process(deployment) as client:
        first = start(client)
        assert (first["state"], first["joined"]) == ("running", False)
        wait_for(lambda: creates_sent(deployment) == 1, what="the pass's create reaching GitHub")
        second = start(client, {"dry_run": False, "mailboxes": []})
        assert (second["sweep_id"], second["joined"]) == (first["sweep_id"], True)
        other = client.post("/admin/sweep", json={"dry_run": True}, headers=AUTH)
        assert other.status_code == 409
        assert other.json()["error"] == "sweep_busy" and other.json()["sweep_id"] == first["sweep_id"]

        done = finished(client, first["sweep_id"])
        assert done["state"] == "done" and as_cli(done)[0] == Exit.OK
        assert "exit_code" not in done and "text" not in done  # data, not a terminal's output
        report = done["report"]
        assert (report["candidates"], report["outcomes"], report["dry_run"]) == (1, {"linked": 1}, False)
        assert report["issue_urls"] == {str(cid): deployment.gh.state()["repos"][0]["issues"][0]["html_url"]}
        assert as_cli(done)[1].startswith("sweep: 1 candidate conversation(s)\n  linked: 1\n")

        after = start(client)  # the pass is over: a new request starts a new one
        assert after["joined"] is False and after["sweep_id"] != first["sweep_id"]
        assert finished(client, after["sweep_id"])["report"]["candidates"] == 0
    assert creates_sent(deployment) == 1 and len(deployment.gh.state()["repos"][0]["issues"]) == 1


def test_a_dry_run_pass_writes_nothing_even_with_the_flag_on(deployment: Deployment) -> None:
    deployment.fs.email(tags=["bug"], mailbox=1)
    deployment.fs.email(tags=["feature_request"], mailbox=2)
    with web_process(deployment) as client:
        done = finished(client, start(client, {"dry_run": True})["sweep_id"])
        assert done["state"] == "done" and done["dry_run"] is True
        report = done["report"]
        assert report["outcomes"] == {"would_link": 2}
        assert (report["dry_run"], report["autolink_enabled"]) == (True, False)
        code, text = as_cli(done)
        assert code == Exit.OK
        assert text.startswith(
            "sweep (dry run: nothing written): 2 candidate conversation(s)\n  would_link: 2\n  cut-off: none"
        )
        assert text.count("→ would_link: tag:") == 2
        fs_methods = {r["method"] for r in deployment.fs.requests()}
        # and the web process's own linker still writes: the real pass after it links both
        live = finished(client, start(client)["sweep_id"])
    assert fs_methods == {"GET"}
    assert live["report"]["outcomes"] == {"linked": 2}


def test_an_unknown_mailbox_fails_the_pass_with_the_usage_exit_code(deployment: Deployment) -> None:
    deployment.fs.email(tags=["bug"], mailbox=2)
    with web_process(deployment) as client:
        done = finished(client, start(client, {"mailboxes": ["nobody@example.com", 2]})["sweep_id"])
    assert (done["state"], done["error"], done["retryable"]) == ("failed", "unknown_mailbox", False)
    assert as_cli(done)[0] == Exit.USAGE
    assert done["message"] == "unknown --mailbox: nobody@example.com (FreeScout has no such mailbox)"
    assert deployment.gh.writes() == []


def test_the_last_passes_are_kept(deployment: Deployment) -> None:
    with web_process(deployment) as client:
        ids = []
        for _ in range(KEEP_RESULTS + 2):
            ids.append(start(client, {"dry_run": True})["sweep_id"])
            finished(client, ids[-1])
        assert len(set(ids)) == len(ids)
        forgotten = [client.get(f"/admin/sweep/{i}", headers=AUTH).status_code for i in ids[:2]]
        kept = [client.get(f"/admin/sweep/{i}", headers=AUTH).status_code for i in ids[2:]]
        metrics = client.get("/metrics", headers=AUTH).text
    assert forgotten == [404, 404] and set(kept) == {200}
    assert f'bridge_sweeps_total{{result="ok"}} {float(KEEP_RESULTS + 2)}' in metrics


def test_the_scheduled_sweep_goes_through_the_same_runner(deployment: Deployment) -> None:
    """A request while the schedule's pass runs joins that pass instead of starting a second one."""
    cid = deployment.fs.email(tags=["bug"], mailbox=2)["id"]
    slow_creates(deployment, 2.0)
    with web_process(deployment, SWEEP_INTERVAL_SECONDS="0.2") as client:
        wait_for(lambda: creates_sent(deployment) == 1, what="the scheduled pass's create reaching GitHub")
        joined = start(client)
        assert joined["joined"] is True
        done = finished(client, joined["sweep_id"])
        assert done["report"]["issue_urls"] == {str(cid): field_value(deployment, cid)}
        time.sleep(0.5)  # more scheduled passes find nothing left to do
    assert creates_sent(deployment) == 1


# -- the runner itself ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_one_pass_at_a_time_in_the_runner(deployment: Deployment) -> None:
    """``run`` of a different pass waits for the running one to end, then starts its own."""
    import anyio

    deployment.fs.email(tags=["bug"], mailbox=2)
    slow_creates(deployment, 1.5)
    settings: Settings = load_settings({**deployment.env, **LIVE})
    metrics = Metrics()
    async with services(settings) as svc:
        runner = SweepRunner(settings, metrics, svc.upstreams)
        first, joined = runner.start(SweepRequest())
        again, joined_again = runner.start(SweepRequest())
        assert (joined, joined_again, again) == (False, True, first)
        with pytest.raises(SweepBusy):
            runner.start(SweepRequest(dry_run=True))
        ended: list[str] = []

        async def scheduled_dry_run() -> None:
            done = await runner.run(SweepRequest(dry_run=True))
            ended.append(done.id)

        async with anyio.create_task_group() as group:
            group.start_soon(scheduled_dry_run)
            await first.finished.wait()
            assert ended == []  # still waiting for its own pass
        assert first.state == "done" and first.result is not None
        assert first.result.report is not None and first.result.report["outcomes"] == {"linked": 1}
        second = runner.get(ended[0])
        assert (
            second is not None
            and second.id != first.id
            and first.finished_at is not None
            and second.started_at >= first.finished_at
        )
        assert second.result is not None and second.result.report is not None
        assert second.result.report["candidates"] == 0  # already linked
        await runner.close()


@pytest.mark.anyio
async def test_a_pass_that_breaks_is_reported_failed_and_the_schedule_goes_on(deployment: Deployment) -> None:
    """An unexpected error (here: no clients) ends the pass as failed; ``run`` does not raise."""
    settings = load_settings({**deployment.env, **LIVE})
    metrics = Metrics()
    runner = SweepRunner(settings, metrics, None)
    broken = await runner.run(SweepRequest())
    assert broken.state == "failed"
    state = broken.as_dict()
    assert state["error"] == "unexpected" and as_cli(state)[0] == Exit.FAILED
    assert state["message"] == "sweep failed: unexpected RuntimeError (details in the web log)"
    assert metrics.registry.get_sample_value("bridge_sweeps_total", {"result": "failed"}) == 1
    again = await runner.run(SweepRequest())
    assert again.id != broken.id and again.state == "failed"
