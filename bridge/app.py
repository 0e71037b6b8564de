"""The web service: a thin Starlette shell around the pure core (signature, parsing, criteria).

``create_app(settings)`` builds everything; clients live in the lifespan; nothing happens at import time.
Errors become HTTP answers in one place, ``_error_response``; every delivery ends in one log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import httpx
import orjson
import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from bridge import logs, retry, wiring
from bridge.admin import admin_routes
from bridge.answers import bearer_matches, error_body, json_response, unauthorised
from bridge.criteria import CONVERSATION_EVENTS, Action, Decision
from bridge.decisions import Activity
from bridge.errors import BudgetExhausted, DeadlineExceeded, PermanentUpstreamError, TransientUpstreamError
from bridge.freescout_api import FreeScoutAPI
from bridge.github_api import GitHubIssues
from bridge.github_deliveries import GitHubDeliveries
from bridge.github_webhook import DeliveryError
from bridge.linker import Linker, Outcome
from bridge.mailboxes import MailboxDirectory
from bridge.metrics import Metrics, bounded_event
from bridge.model import Conversation, PayloadError, parse_conversation
from bridge.settings import Settings, SettingsError, load_settings
from bridge.signature import SignatureError, Verifier
from bridge.status_page import status_routes
from bridge.sweep_runner import SweepRequest, SweepRunner

log = logs.get_logger()


class RequestError(Exception):
    """A refusal of the request itself: ``status`` and a JSON ``{"error", "message"}`` body."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


@dataclass
class Services:
    """What the lifespan owns and the endpoints use."""

    settings: Settings
    linker: Linker
    freescout: FreeScoutAPI
    github: GitHubIssues
    mailboxes: MailboxDirectory
    metrics: Metrics
    verifier: Verifier  # the webhook secrets, prepared once per process
    github_deliveries: GitHubDeliveries | None = None  # None while GITHUB_WEBHOOK_SECRET is unset


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed ``limit`` and 408 if it trickles.

    A declared ``Content-Length`` over the limit is refused before a byte is read; otherwise the stream
    is cut as soon as the bytes read pass it. A client that hangs up mid-body raises ``ClientDisconnect``.
    """
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise RequestError(413, "body_too_large", f"the body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise RequestError(413, "body_too_large", f"the body exceeds {limit} bytes")
                chunks.append(chunk)
    except TimeoutError as exc:
        raise RequestError(408, "body_timeout", f"the body did not arrive within {timeout:g} s") from exc
    return b"".join(chunks)


_LONG_DIGITS = re.compile(rb"\d{20}")


def parse_json(raw: bytes) -> Any:
    """orjson first (several times faster on FreeScout's escaped JSON); the standard library decides
    whatever orjson refuses (lone surrogate escapes, UTF-16 bodies) and any body with a run of 20 digits,
    so what is accepted, and what it decodes to, stays exactly what ``json.loads`` gives."""
    if _LONG_DIGITS.search(raw) is None:  # orjson turns integers beyond 64 bits into floats
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, huge ints, deep nesting
        raise RequestError(400, "invalid_json", "the body is not valid JSON") from exc


_GONE = ("freescout", "get_conversation", 404)


def _error_response(exc: Exception) -> tuple[Response, str, str]:
    """The single place errors become HTTP: the response, the outcome and the reason for the log line."""
    if isinstance(exc, RequestError):
        return error_body(exc.status, exc.error, exc.message), "refused", exc.error
    if isinstance(exc, DeliveryError):  # a GitHub delivery refused (signature, media type, headers, JSON)
        return error_body(exc.status, exc.reason, exc.message), "refused", exc.reason
    if isinstance(exc, SignatureError):
        return (
            error_body(401, "invalid_signature", "X-FreeScout-Signature does not match"),
            "refused",
            exc.reason,
        )
    if isinstance(exc, PayloadError):
        return error_body(400, exc.reason, exc.message), "refused", exc.reason
    if isinstance(exc, ClientDisconnect):  # nobody reads this answer; the log line is what matters
        message = "the client closed the connection before the body arrived"
        return error_body(400, "client_disconnected", message), "refused", "client_disconnected"
    if isinstance(exc, TransientUpstreamError):
        wait = str(max(1, int(exc.retry_after or 30)))
        kind = "budget_exhausted" if isinstance(exc, BudgetExhausted) else "upstream_unavailable"
        message = f"{exc.api} is unavailable ({exc.reason}); FreeScout will redeliver"
        return error_body(503, kind, message, {"Retry-After": wait}), "retry_later", f"{exc.api}:{exc.reason}"
    if isinstance(exc, PermanentUpstreamError) and (exc.api, exc.operation, exc.status) == _GONE:
        # Deleted for good since the event was queued: ten redeliveries over 80 minutes cannot help.
        body = {"outcome": "ignore", "reason": "conversation_not_found", "issue_url": ""}
        return json_response(body), "ignore", "conversation_not_found"
    if isinstance(exc, PermanentUpstreamError):
        message = f"{exc.api} {exc.operation} failed ({exc.reason}): {exc.hint}"
        return error_body(502, "upstream_rejected", message), "failed", f"{exc.api}:{exc.reason}"
    # A bug: answered like any other failure (FreeScout redelivers a 5xx), named by its type only; the
    # traceback goes to the log beside the summary line, the exception's text never into the answer.
    message = f"the bridge failed unexpectedly ({type(exc).__name__}); its log has the details"
    return error_body(500, "internal_error", message), "failed", type(exc).__name__


async def _settle(services: Services, event: str, conv: Conversation, context: dict[str, Any]) -> Outcome:
    """Answer from the payload when it settles the delivery (the hot path: no timers, no I/O)."""
    first: Decision | None = None
    if services.mailboxes.loaded or not services.mailboxes.needs_lookup():
        first = await services.linker.decide_from_payload(event, conv)
        if first.action is Action.IGNORE:
            return Outcome.of(first)
    with structlog.contextvars.bound_contextvars(**context):
        return await _within_deadline(services, event, conv, first)


async def _within_deadline(
    services: Services, event: str, conv: Conversation, first: Decision | None
) -> Outcome:
    """Retries stop at the soft deadline; the hard one guarantees an answer inside FreeScout's patience.

    A GitHub call still running when the hard deadline hits keeps going in its thread and keeps the write
    slot, so the redelivery FreeScout sends after our 503 finds its issue instead of opening another.
    """
    limits = services.settings.config
    try:
        async with asyncio.timeout(limits.answer_within_seconds):
            with retry.deadline_in(limits.delivery_deadline_seconds):
                return await services.linker.handle(event, conv, first)
    except TimeoutError as exc:
        raise DeadlineExceeded("bridge", "deliver", "deadline_exceeded", retry_after=30) from exc


async def handle_delivery(services: Services, route: str, request: Request) -> Response:
    """Verify, parse, decide, act, answer, and write one summary log line."""
    started = time.perf_counter()
    settings = services.settings
    event = request.headers.get("x-freescout-event", "").strip()[:100]
    # The delivery's context goes into its summary line directly; it is bound for deeper log lines only
    # when the delivery leaves the payload-only hot path (``_within_deadline``).
    context: dict[str, Any] = {"request_id": os.urandom(6).hex(), "route": route, "_event": event}
    fields: dict[str, Any] = {}
    try:
        raw = await read_body(
            request, settings.config.max_body_bytes, settings.config.body_read_timeout_seconds
        )
        services.verifier.verify(raw, request.headers.get("x-freescout-signature"))
        if not event:
            raise RequestError(400, "missing_event", "the X-FreeScout-Event header is missing")
        data = parse_json(raw)
        if event not in CONVERSATION_EVENTS:
            outcome = Outcome("ignore", "unsupported_event")
        else:
            conv = parse_conversation(data, newest_thread_only=True)
            context["conversation_id"] = conv.id
            outcome = await _settle(services, event, conv, context)
        response = json_response(
            {"outcome": outcome.decision, "reason": outcome.reason, "issue_url": outcome.issue_url}
        )
        result, reason = outcome.decision, outcome.reason
        fields = {k: v for k, v in (("issue_url", outcome.issue_url), ("writes", outcome.writes)) if v}
        if outcome.decision == "linked":
            services.metrics.links.labels(str("create_issue" in outcome.writes).lower()).inc()
        if "create_comment" in outcome.writes:
            services.metrics.closing_comments.inc()
    except Exception as exc:  # noqa: BLE001 - the outermost edge: every failure is answered and logged
        response, result, reason = _error_response(exc)
        if isinstance(exc, PermanentUpstreamError):
            fields = {"hint": exc.hint, "upstream_status": exc.status}
        elif response.status_code == 500:
            fields = {"exc_info": exc}  # the traceback, through the redactor like every other field
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    status = response.status_code
    level = "error" if status == 500 else "warning" if status >= 500 else "info"
    getattr(log, level)(
        "delivery",
        outcome=result,
        reason=reason,
        status=response.status_code,
        duration_ms=duration_ms,
        **context,
        **fields,
    )
    known = bounded_event(event)
    services.metrics.delivered(known, route, result, reason)
    conversation_id = context.get("conversation_id")
    issue_url = str(fields.get("issue_url", ""))
    services.metrics.activity.decisions.record("webhook", known, conversation_id, result, reason, issue_url)
    return response


_GITHUB_OFF = "the GitHub webhook route is off: set GITHUB_WEBHOOK_SECRET to the webhook's secret"


async def handle_github_delivery(services: Services, request: Request) -> Response:
    """``POST /api/webhooks/github``: accept (``bridge.github_deliveries``), answer, one summary line."""
    started = time.perf_counter()
    context: dict[str, Any] = {
        "request_id": os.urandom(6).hex(),
        "route": "github",
        "_event": request.headers.get("x-github-event", "").strip()[:100],
    }
    fields: dict[str, Any] = {}
    try:
        if services.github_deliveries is None:
            raise RequestError(404, "github_webhook_off", _GITHUB_OFF)
        limits = services.settings.config
        raw = await read_body(request, limits.max_body_bytes, limits.body_read_timeout_seconds)
        answer = services.github_deliveries.accept(request.headers, raw)
        response, result, reason, fields = json_response(answer.body(), answer.status), *answer.log()
    except Exception as exc:  # noqa: BLE001 - the outermost edge: every failure is answered and logged
        response, result, reason = _error_response(exc)
    level = "warning" if response.status_code >= 500 else "info"
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    getattr(log, level)(
        "delivery",
        outcome=result,
        reason=reason,
        status=response.status_code,
        duration_ms=duration_ms,
        **context,
        **fields,
    )
    known = bounded_event(context["_event"])
    services.metrics.delivered(known, "github", result, reason)
    services.metrics.activity.decisions.record("github", known, None, result, reason)
    return response


READY_FRESH_SECONDS = 300.0


async def _readiness(services: Services) -> dict[str, str]:
    """Each upstream is ready if it answered in the last five minutes, or answers a cheap probe now."""
    checks: dict[str, str] = {"settings": "ok"}
    now = time.monotonic()
    for api in ("freescout", "github"):
        if now - services.metrics.last_success.get(api, -1e9) < READY_FRESH_SECONDS:
            checks[api] = "ok"
            continue
        try:
            with retry.deadline_in(5):
                if api == "freescout":
                    await services.freescout.probe()
                else:
                    await anyio.to_thread.run_sync(services.github.probe)
            checks[api] = "ok"
        except (TransientUpstreamError, PermanentUpstreamError) as exc:
            checks[api] = f"{exc.reason}: {exc.hint}" if exc.hint else exc.reason
    return checks


async def _sweep_forever(runner: SweepRunner, interval: float, activity: Activity) -> None:
    """The scheduled reconciler, through the runner ``POST /admin/sweep`` uses: one pass at a time."""
    while True:
        activity.sweep_scheduled(interval)
        await asyncio.sleep(interval)
        await runner.run(SweepRequest(), source="schedule")  # never raises: failures end in its result


async def _load_mailboxes(mailboxes: MailboxDirectory) -> None:
    """Resolve the configured mailboxes at start-up; a failure here is retried on the first delivery."""
    try:
        with retry.deadline_in(10):
            await mailboxes.load()
        if mailboxes.unknown:
            log.error(
                "config_mailbox_unknown",
                mailboxes=[str(m) for m in mailboxes.unknown],
                hint="[autolink] mailboxes in BRIDGE_CONFIG names mailboxes FreeScout does not have",
            )
    except (TransientUpstreamError, PermanentUpstreamError) as exc:
        log.warning(
            "mailboxes_not_loaded", reason=exc.reason, hint=exc.hint or "will retry on first delivery"
        )


def _services(request: Request) -> Services:
    """What the lifespan opened, from its state (Starlette copies it into every request)."""
    services: Services = request.state.services
    return services


def create_app(
    settings: Settings,
    *,
    github: GitHubIssues | None = None,
    freescout_client: httpx.AsyncClient | None = None,
) -> Starlette:
    """Build the app. Tests pass their own GitHub wrapper or FreeScout client; production passes neither.

    The lifespan opens the upstream clients (``wiring.open_upstreams``, as the CLI does), yields them as
    its state for the endpoints, and closes them, the FreeScout and the GitHub client, at shutdown.
    """
    metrics = Metrics()
    verifier = Verifier(s.reveal() for s in settings.webhook_secrets)
    logs.REDACTOR.add_secrets(settings.secrets())  # also when built directly, not via app_from_env

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with wiring.open_upstreams(settings, metrics, github=github, client=freescout_client) as up:
            deliveries = None
            if settings.github_webhook_secrets:
                github_verifier = Verifier(s.reveal() for s in settings.github_webhook_secrets)
                logins = settings.github_bridge_logins
                deliveries = GitHubDeliveries(github_verifier, up.linker.return_path, bridge_logins=logins)
            services = Services(
                settings, up.linker, up.freescout, up.github, up.mailboxes, metrics, verifier, deliveries
            )
            sweeps = SweepRunner(settings, metrics, up)
            if isinstance(up.github, GitHubIssues):
                metrics.watch_budget(up.github.gate)
            await _load_mailboxes(up.mailboxes)
            log.info(
                "started",
                autolink=settings.autolink_enabled,
                routes=list(settings.config.routes),
                repository=settings.github_repository,
                sweep_interval_seconds=settings.config.sweep_interval_seconds,
            )
            scheduler = None
            if settings.config.sweep_interval_seconds > 0:
                interval = settings.config.sweep_interval_seconds
                scheduler = asyncio.create_task(_sweep_forever(sweeps, interval, metrics.activity))
            try:
                yield {"services": services, "sweeps": sweeps}
            finally:
                if scheduler is not None:
                    scheduler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await scheduler
                if deliveries is not None:
                    await deliveries.close()
                await sweeps.close()

    def endpoint(route: str) -> Callable[[Request], Any]:
        async def webhook(request: Request) -> Response:
            return await handle_delivery(_services(request), route, request)

        return webhook

    async def github_webhook(request: Request) -> Response:
        return await handle_github_delivery(_services(request), request)

    async def healthz(_request: Request) -> Response:
        return json_response({"status": "ok"})

    def authorised(request: Request) -> bool:
        return settings.admin_token is None or bearer_matches(settings.admin_token, request)

    async def metrics_endpoint(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    async def readyz(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        checks = await _readiness(_services(request))
        ready = all(v == "ok" for v in checks.values())
        return json_response({"ready": ready, "checks": checks}, 200 if ready else 503)

    routes = [
        Route(f"/api/webhooks/freescout/{name}", endpoint(name), methods=["POST"], name=f"freescout-{name}")
        for name in settings.config.routes
    ]
    routes.append(Route("/api/webhooks/github", github_webhook, methods=["POST"], name="github"))
    routes += [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics_endpoint)]
    routes += admin_routes(settings)

    routes += status_routes(settings, metrics, lambda request: _services(request).mailboxes)

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_body(exc.status_code, "http_error", str(exc.detail))

    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})


def app_from_env() -> Starlette:
    """The uvicorn factory (``--factory``): settings from the environment, or a clear message and exit 2."""
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        print(f"freescout-github-bridge cannot start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    logs.configure(settings.secrets(), os.environ.get("LOG_LEVEL", "INFO"), cache=True)
    return create_app(settings)
