"""``freescout-bridge sweep`` handing its pass to the web process (``BRIDGE_URL`` or ``--via``).

Why: the web process is the single writer. Its per-conversation locks serialise a sweep against webhooks,
which a pass in this process could not do, so this command asks the web process to run the pass
(``POST /admin/sweep``), polls it to the end and prints the same result a local pass prints. When no web
process answers, it runs nothing: it prints the exact ``--local`` command and exits 3, so whether a pass
runs beside a web process that may only look down is the operator's decision (runbooks/deploy.md
section 4). The waiting loops are tenacity's.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, retry_if_result, wait_fixed

from bridge import logs
from bridge.cli.commands import Result, sweep_result
from bridge.cli.doctor import Exit
from bridge.settings import Settings
from bridge.sweep_runner import SWEEP_SECONDS, SweepResult

log = logs.get_logger()

POLL_SECONDS = 1.0
REQUEST_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
LOST_AFTER_SECONDS = 60.0  # a busy or lost web process, this long in a row: give up (exit 3)
WAIT_SECONDS = SWEEP_SECONDS + 300.0  # for a pass already running, then ours
PROXY_DOWN = (502, 503, 504)  # a router or proxy in front, or uvicorn at --limit-concurrency


class Stop(Exception):
    """The delegated pass cannot be carried on; ``result`` says why, with the exit code."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.text)
        self.result = result


class _Again(Exception):
    """Ask again after a pause: the web process is busy, or the pass could not be read this time."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class _OtherPassEnded(Exception):
    """A different pass held the runner and has ended: POST ours again."""


@dataclass
class Delegation:
    url: str
    poll_seconds: float = POLL_SECONDS
    wait_seconds: float = WAIT_SECONDS
    lost_after_seconds: float = LOST_AFTER_SECONDS

    def stop(self, code: Exit, error: str, message: str, **extra: str) -> Stop:
        return Stop(Result(code, {"error": error, "message": message, "via": self.url, **extra}, message))


def local_command(*, dry_run: bool, mailboxes: tuple[str | int, ...], unset_url: bool = False) -> str:
    """The exact command that runs this pass in the operator's own process (``--local``)."""
    argv = ["freescout-bridge", "sweep", "--local", *(["--dry-run"] if dry_run else [])]
    argv += [arg for m in mailboxes for arg in ("--mailbox", str(m))]
    return ("BRIDGE_URL= " if unset_url else "") + shlex.join(argv)


async def run_sweep_via(
    settings: Settings,
    url: str,
    *,
    dry_run: bool,
    mailboxes: tuple[str | int, ...],
    delegation: Delegation | None = None,
    limit: int | None = None,
) -> Result:
    """The pass in the web process at ``url``, or why it could not run there (never a local pass)."""
    plan = delegation or Delegation(url.rstrip("/"))
    bad = _bad_url(url, {})
    if bad is not None:
        return bad
    if settings.admin_token is None:
        message = (
            f"sweeping through the web process at {plan.url} needs BRIDGE_ADMIN_TOKEN (the web process's "
            "value) in this environment; or run with --local when the web process is down"
        )
        return Result(Exit.USAGE, {"error": "settings", "message": message, "via": plan.url}, message)
    body: dict[str, Any] = {"dry_run": dry_run, "mailboxes": list(mailboxes)}
    if limit is not None:
        body["limit"] = limit
    headers = {"Authorization": f"Bearer {settings.admin_token.reveal()}", "Accept": "application/json"}
    try:
        async with httpx.AsyncClient(
            base_url=plan.url, headers=headers, timeout=REQUEST_TIMEOUT, follow_redirects=False
        ) as client:
            return await _delegate(client, plan, body)
    except Stop as stop:
        return stop.result


def _bad_url(url: str, extra: dict[str, str]) -> Result | None:
    """A usage error unless ``url`` is an http(s) base URL (``extra`` joins the JSON)."""
    if url.strip().startswith(("http://", "https://")):
        return None
    message = f"BRIDGE_URL / --via must be the web process's base URL (http:// or https://), not {url!r}"
    return Result(Exit.USAGE, {"error": "settings", "message": message, **extra}, message)


async def local_pass_refused(url: str) -> Result | None:
    """The refusal of a writing ``--local`` pass while a web process answers at ``url`` (BRIDGE_URL)."""
    bad = _bad_url(url, {"via": "local"})
    if bad is not None or not await _web_process_answers(url):
        return bad
    # A writing pass beside a live web process could race its webhooks: refuse rather than risk it.
    message = (
        f"the web process at {url} answers, so it must run the pass (it is the single writer): "
        "run without --local. --local is for when the web process is down (runbooks/deploy.md)"
    )
    return Result(Exit.USAGE, {"error": "web_process_running", "message": message, "via": "local"}, message)


async def _web_process_answers(url: str) -> bool:
    """Whether anything answers HTTP at ``url`` (``GET /healthz``, 3 s at most). Any answer counts, even a
    redirect or a 503: a busy web process is still a writer, so only silence means it is down."""
    try:
        async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=3.0) as client:
            await client.get("/healthz")
    except (httpx.ConnectError, httpx.ConnectTimeout):
        return False
    except httpx.TransportError:
        return True  # something is there but slow or broken: do not assume it is down
    return True


def _until(
    plan: Delegation, deadline: float, lost_after: float | None = None
) -> Callable[[RetryCallState], bool]:
    """tenacity's stop condition: the next pause would pass ``deadline``, or asking again has gone on
    for ``lost_after`` seconds."""

    def stop(state: RetryCallState) -> bool:
        if time.monotonic() + plan.poll_seconds > deadline:
            return True
        return lost_after is not None and (state.seconds_since_start or 0.0) >= lost_after

    return stop


async def _delegate(client: httpx.AsyncClient, plan: Delegation, body: dict[str, Any]) -> Result:
    """POST the pass, waiting first for a different pass that holds the runner; then poll ours."""
    deadline = time.monotonic() + plan.wait_seconds

    def timed_out(_state: RetryCallState) -> NoReturn:
        _timeout(plan, "the web process kept running other sweep passes")

    posting = AsyncRetrying(
        retry=retry_if_exception_type(_OtherPassEnded),
        stop=_until(plan, deadline),
        retry_error_callback=timed_out,
    )
    answer: httpx.Response = await posting(_start, client, plan, body, deadline)
    started = answer.json()
    sweep_id, joined = str(started["sweep_id"]), bool(started.get("joined"))
    final = await _poll(client, plan, sweep_id, deadline)
    return _finished(plan, final, joined)


async def _start(
    client: httpx.AsyncClient, plan: Delegation, body: dict[str, Any], deadline: float
) -> httpx.Response:
    """One POST (asked again while the web process is busy); the 202. A 409 waits for the other pass."""

    def unavailable(state: RetryCallState) -> NoReturn:
        assert state.outcome is not None
        status = str(state.outcome.exception())
        command = local_command(
            dry_run=bool(body["dry_run"]), mailboxes=tuple(body["mailboxes"]), unset_url=True
        )
        message = (
            f"the web process at {plan.url} kept answering {status} (busy, or down behind a router), so "
            f"no pass ran; if it is down, run the pass here: {command}"
        )
        raise plan.stop(Exit.UNREACHABLE, "web_unavailable", message, command=command)

    posting = AsyncRetrying(
        retry=retry_if_exception_type(_Again),
        wait=wait_fixed(plan.poll_seconds),
        stop=_until(plan, deadline, plan.lost_after_seconds),
        retry_error_callback=unavailable,
    )
    answer: httpx.Response = await posting(_post, client, plan, body)
    if answer.status_code == 409:  # a different pass is running: wait for its end, then ask again
        busy = _json(answer).get("sweep_id")
        if isinstance(busy, str) and busy:
            log.warning("sweep_waiting_for_other_pass", sweep_id=busy)
            await _poll(client, plan, busy, deadline)
        raise _OtherPassEnded()
    return answer


async def _post(client: httpx.AsyncClient, plan: Delegation, body: dict[str, Any]) -> httpx.Response:
    """POST the pass once. Nothing answering is the operator's call (exit 3 with the ``--local``
    command); a request that may have arrived is never followed by a local pass, which could race it."""
    try:
        answer = await client.post("/admin/sweep", json=body)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        command = local_command(dry_run=bool(body["dry_run"]), mailboxes=tuple(body["mailboxes"]))
        message = (
            f"no web process answers at {plan.url} ({_transport_reason(exc)}), so no pass ran. If it is "
            f"down, run the pass here: {command}"
        )
        raise plan.stop(Exit.UNREACHABLE, "web_unreachable", message, command=command) from None
    except httpx.TransportError as exc:
        message = (
            f"the web process at {plan.url}: {_transport_reason(exc)} after the request was sent, so the "
            "pass may be running there; run the command again in a few minutes (it joins a running pass)"
        )
        raise plan.stop(Exit.UNREACHABLE, "web_unreachable", message) from None
    if answer.status_code in PROXY_DOWN and "error" not in _json(answer):
        raise _Again(f"HTTP {answer.status_code}")  # busy is not down: uvicorn's own 503 looks like this
    if answer.status_code in (202, 409):
        return answer
    raise _refused(plan, answer)


def _refused(plan: Delegation, answer: httpx.Response) -> Stop:
    """A definite answer that is not a pass: say what to fix (never fall back: that could race)."""
    status, data = answer.status_code, _json(answer)
    said = str(data.get("message") or "")[:300]
    if status == 401:
        message = (
            f"the web process at {plan.url} refused BRIDGE_ADMIN_TOKEN (HTTP 401): set the same value "
            "as the web process's, or run with --local when the web process is down"
        )
        return plan.stop(Exit.USAGE, "admin_token_rejected", message)
    if status == 403:
        message = (
            f"the web process at {plan.url} has no BRIDGE_ADMIN_TOKEN, so its admin endpoints are off "
            "(HTTP 403): set BRIDGE_ADMIN_TOKEN there and here to the same value"
        )
        return plan.stop(Exit.USAGE, "admin_disabled", message)
    if status == 404:
        message = (
            f"{plan.url} has no /admin/sweep (HTTP 404): BRIDGE_URL must be the bridge's base URL, "
            "running this version of the bridge"
        )
        return plan.stop(Exit.USAGE, "no_admin_endpoint", message)
    if 300 <= status < 400:
        target = answer.headers.get("location", "")[:200]
        message = (
            f"{plan.url} redirects (HTTP {status} to {target or '?'}): set BRIDGE_URL to the final base "
            "URL (a redirected POST loses its body)"
        )
        return plan.stop(Exit.USAGE, "redirected", message)
    if status == 400:
        return plan.stop(Exit.USAGE, str(data.get("error") or "invalid_request"), f"refused: {said}")
    message = f"the web process at {plan.url} answered HTTP {status}" + (f": {said}" if said else "")
    return plan.stop(Exit.FAILED, "web_error", message)


async def _poll(
    client: httpx.AsyncClient, plan: Delegation, sweep_id: str, deadline: float
) -> dict[str, Any]:
    """``GET /admin/sweep/{id}`` every ``poll_seconds`` until the pass ends; its final state."""

    def still_running(_state: RetryCallState) -> NoReturn:
        _timeout(plan, f"sweep {sweep_id} is still running in the web process")

    polling = AsyncRetrying(
        retry=retry_if_result(lambda state: state.get("state") == "running"),
        wait=wait_fixed(plan.poll_seconds),
        stop=_until(plan, deadline),
        retry_error_callback=still_running,
    )
    final: dict[str, Any] = await polling(_read_pass, client, plan, sweep_id, deadline)
    return final


async def _read_pass(
    client: httpx.AsyncClient, plan: Delegation, sweep_id: str, deadline: float
) -> dict[str, Any]:
    """The pass's state, read again while the web process cannot be reached, up to ``lost_after``."""

    def lost(state: RetryCallState) -> NoReturn:
        assert state.outcome is not None
        if time.monotonic() + plan.poll_seconds > deadline:
            _timeout(plan, f"sweep {sweep_id} is still running in the web process")
        message = (
            f"lost the web process at {plan.url} while sweep {sweep_id} ran ({state.outcome.exception()}); "
            'it may still be running there: check its log for "msg": "sweep", or run the sweep again later'
        )
        raise plan.stop(Exit.UNREACHABLE, "web_unreachable", message)

    reading = AsyncRetrying(
        retry=retry_if_exception_type(_Again),
        wait=wait_fixed(plan.poll_seconds),
        stop=_until(plan, deadline, plan.lost_after_seconds),
        retry_error_callback=lost,
    )
    state: dict[str, Any] = await reading(_get_pass, client, plan, sweep_id)
    return state


async def _get_pass(client: httpx.AsyncClient, plan: Delegation, sweep_id: str) -> dict[str, Any]:
    try:
        answer = await client.get(f"/admin/sweep/{sweep_id}")
    except httpx.TransportError as exc:
        raise _Again(_transport_reason(exc)) from None
    if answer.status_code == 200:
        return dict(answer.json())
    if answer.status_code == 404:
        message = (
            f"the web process at {plan.url} no longer knows sweep {sweep_id} (did it restart?); "
            "run the sweep again"
        )
        raise plan.stop(Exit.UNREACHABLE, "sweep_lost", message)
    if answer.status_code in (401, 403):
        raise _refused(plan, answer)
    raise _Again(f"HTTP {answer.status_code}")


def _timeout(plan: Delegation, what: str) -> NoReturn:
    message = f'{what} after {plan.wait_seconds:.0f} s; it carries on there (its log has "msg": "sweep")'
    raise plan.stop(Exit.UNREACHABLE, "timeout", message)


def _finished(plan: Delegation, final: dict[str, Any], joined: bool) -> Result:
    """The web process's result as this command's own, plus where it ran."""
    sweep_id = str(final.get("sweep_id", ""))
    where = f"ran in the web process at {plan.url} (sweep {sweep_id}"
    where += ", joined the pass already running)" if joined else ")"
    ran = {"via": plan.url, "sweep_id": sweep_id, "joined": joined}
    return sweep_result(SweepResult.from_dict(final), ran, where)


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _transport_reason(exc: httpx.TransportError) -> str:
    detail = str(exc).strip()
    return (f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)[:200]
