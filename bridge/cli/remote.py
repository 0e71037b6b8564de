"""``freescout-bridge sweep`` handing its pass to the web process (``BRIDGE_URL`` or ``--via``).

Why: the web process is the single writer. Its per-conversation locks serialise a sweep against webhooks,
which a pass in this process could not do, so this command asks the web process to run the pass
(``POST /admin/sweep``), polls it to the end and prints the same result a local pass prints. Only if no
web process answers at all does it sweep here instead: a bridge outage is one of the things the sweep
must catch (runbooks/deploy.md section 4).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bridge import logs
from bridge.cli.commands import SWEEP_SECONDS, Result, run_sweep
from bridge.cli.doctor import Exit
from bridge.settings import Settings

log = logs.get_logger()

POLL_SECONDS = 1.0
REQUEST_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
LOST_AFTER_SECONDS = 60.0  # polls failing this long in a row: give up (the pass may still be running there)
WAIT_SECONDS = SWEEP_SECONDS + 300.0  # for a pass already running, then ours
PROXY_DOWN = (502, 503, 504)  # a router or proxy answering for a web process that is not there


class Unreachable(Exception):
    """No web process answered the first request: the caller sweeps locally instead."""


class Stop(Exception):
    """The delegated pass cannot be carried on; ``result`` says why, with the exit code."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.text)
        self.result = result


@dataclass
class Delegation:
    url: str
    poll_seconds: float = POLL_SECONDS
    wait_seconds: float = WAIT_SECONDS
    lost_after_seconds: float = LOST_AFTER_SECONDS

    def stop(self, code: Exit, error: str, message: str) -> Stop:
        return Stop(Result(code, {"error": error, "message": message, "via": self.url}, message))


async def run_sweep_via(
    settings: Settings,
    url: str,
    *,
    dry_run: bool,
    mailboxes: tuple[str | int, ...],
    delegation: Delegation | None = None,
) -> Result:
    """The pass in the web process at ``url``; locally (and saying so) if nothing answers there."""
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
    headers = {"Authorization": f"Bearer {settings.admin_token.reveal()}", "Accept": "application/json"}
    try:
        async with httpx.AsyncClient(
            base_url=plan.url, headers=headers, timeout=REQUEST_TIMEOUT, follow_redirects=False
        ) as client:
            return await _delegate(client, plan, body)
    except Stop as stop:
        return stop.result
    except Unreachable as exc:
        reason = str(exc)
    log.warning("sweep_web_unreachable", url=plan.url, reason=reason)
    local = await run_sweep(settings, dry_run=dry_run, mailboxes=mailboxes)
    note = f"the web process at {plan.url} did not answer ({reason}), so this pass ran here"
    return _tagged(local, f"local (web process unreachable: {reason})", note)


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


def _tagged(result: Result, via: str, note: str) -> Result:
    text = f"{result.text}\n  note: {note}" if result.text else note
    return Result(result.exit, {**result.data, "via": via}, text)


async def _delegate(client: httpx.AsyncClient, plan: Delegation, body: dict[str, Any]) -> Result:
    deadline = time.monotonic() + plan.wait_seconds
    first = True
    while True:
        answer = await _post(client, plan, body, first=first, deadline=deadline)
        first = False
        if answer.status_code == 202:
            started = answer.json()
            sweep_id, joined = str(started["sweep_id"]), bool(started.get("joined"))
            final = await _poll(client, plan, sweep_id, deadline)
            return _finished(plan, final, joined)
        # 409: a different pass is running (or the process is starting): wait for it, then ask again.
        busy = _json(answer).get("sweep_id")
        if isinstance(busy, str) and busy:
            log.warning("sweep_waiting_for_other_pass", sweep_id=busy)
            await _poll(client, plan, busy, deadline)
        else:
            await _pause(plan, deadline, "the web process was still starting")


async def _post(
    client: httpx.AsyncClient, plan: Delegation, body: dict[str, Any], *, first: bool, deadline: float
) -> httpx.Response:
    """POST the pass. Only a first POST that reached nothing (refused, DNS, connect timeout) lets the
    caller sweep here: once a request may have arrived, or anything answered, a local pass could race."""
    busy_since: float | None = None
    while True:
        try:
            answer = await client.post("/admin/sweep", json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            reason = _transport_reason(exc)
            if first:
                raise Unreachable(reason) from None
            raise plan.stop(
                Exit.UNREACHABLE, "web_unreachable", f"the web process at {plan.url}: {reason}"
            ) from None
        except httpx.TransportError as exc:
            message = (
                f"the web process at {plan.url}: {_transport_reason(exc)} after the request was sent, so the "
                "pass may be running there; run the command again in a few minutes (it joins a running pass)"
            )
            raise plan.stop(Exit.UNREACHABLE, "web_unreachable", message) from None
        if answer.status_code in PROXY_DOWN and "error" not in _json(answer):
            # uvicorn's own 503 at --limit-concurrency looks like this too: busy is not down. Ask again.
            now = time.monotonic()
            busy_since = now if busy_since is None else busy_since
            if now - busy_since >= plan.lost_after_seconds or now + plan.poll_seconds >= deadline:
                message = (
                    f"the web process at {plan.url} kept answering HTTP {answer.status_code} (busy, or down "
                    "behind a router); if it is down, run the pass with BRIDGE_URL unset: "
                    "BRIDGE_URL= freescout-bridge sweep --local"
                )
                raise plan.stop(Exit.UNREACHABLE, "web_unavailable", message)
            await asyncio.sleep(plan.poll_seconds)
            continue
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
    """``GET /admin/sweep/{id}`` about once a second until the pass ends; its final state."""
    lost_since: float | None = None
    while True:
        try:
            answer = await client.get(f"/admin/sweep/{sweep_id}")
        except httpx.TransportError as exc:
            problem = _transport_reason(exc)
        else:
            if answer.status_code == 200:
                state = answer.json()
                if state.get("state") != "running":
                    return dict(state)
                lost_since = None
                await _pause(plan, deadline, f"sweep {sweep_id} is still running in the web process")
                continue
            if answer.status_code == 404:
                message = (
                    f"the web process at {plan.url} no longer knows sweep {sweep_id} (did it restart?); "
                    "run the sweep again"
                )
                raise plan.stop(Exit.UNREACHABLE, "sweep_lost", message)
            if answer.status_code in (401, 403):
                raise _refused(plan, answer)
            problem = f"HTTP {answer.status_code}"
        lost_since = lost_since if lost_since is not None else time.monotonic()
        if time.monotonic() - lost_since > plan.lost_after_seconds:
            message = (
                f"lost the web process at {plan.url} while sweep {sweep_id} ran ({problem}); it may still "
                'be running there: check its log for "msg": "sweep", or run the sweep again later'
            )
            raise plan.stop(Exit.UNREACHABLE, "web_unreachable", message)
        await _pause(plan, deadline, f"sweep {sweep_id} is still running in the web process")


async def _pause(plan: Delegation, deadline: float, what: str) -> None:
    if time.monotonic() + plan.poll_seconds > deadline:
        message = f'{what} after {plan.wait_seconds:.0f} s; it carries on there (its log has "msg": "sweep")'
        raise plan.stop(Exit.UNREACHABLE, "timeout", message)
    await asyncio.sleep(plan.poll_seconds)


def _finished(plan: Delegation, final: dict[str, Any], joined: bool) -> Result:
    """The web process's result as this command's own, plus where it ran."""
    sweep_id = str(final.get("sweep_id", ""))
    given = final.get("exit_code")
    code = Exit(given) if given in set(Exit) else Exit.FAILED
    extra = {"via": plan.url, "sweep_id": sweep_id, "joined": joined}
    if final.get("state") == "done" and isinstance(final.get("report"), dict):
        data = {**final["report"], **extra}
    else:
        data = {
            "error": str(final.get("error", "unexpected")),
            "message": str(final.get("message", "")),
            **extra,
        }
    where = f"ran in the web process at {plan.url} (sweep {sweep_id}"
    where += ", joined the pass already running)" if joined else ")"
    text = str(final.get("text") or data.get("message") or "")
    return Result(code, data, f"{text}\n  note: {where}")


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _transport_reason(exc: httpx.TransportError) -> str:
    detail = str(exc).strip()
    return (f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)[:200]
