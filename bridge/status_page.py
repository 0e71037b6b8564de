"""``GET /status``: a read-only page for the support lead who does not read logs.

It needs ``BRIDGE_ADMIN_TOKEN`` always, in a way a browser can send: HTTP Basic with the token as the
password (any user name), or the ``Authorization: Bearer`` header the other operator endpoints take.
Without the token set the page is off (403), like ``/admin/sweep``: it lists conversation ids and
reasons. It shows no customer email, no body and no secret, and is served with a strict
Content-Security-Policy: no scripts, no external assets, one hashed style block.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bridge import cutoff
from bridge.answers import bearer_matches, error_body
from bridge.mailboxes import MailboxDirectory
from bridge.metrics import Metrics
from bridge.settings import Settings
from bridge.status_view import CSP, Filters, StatusFacts, render_page

STATUS_PATH = "/status"
REALM = "freescout-github-bridge"
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
MAX_OUTCOME_LENGTH = 40


class FilterError(ValueError):
    pass


def basic_password_matches(token: str, request: Request) -> bool:
    """``Authorization: Basic base64(user:token)``; the user name is ignored, the password compared in
    constant time."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    _user, sep, password = decoded.partition(b":")
    return bool(sep) and hmac.compare_digest(password, token.encode())


def refusal(settings: Settings, request: Request) -> Response | None:
    """``None`` if the request may see the page; else the answer (403 when off, 401 asking for Basic)."""
    if settings.admin_token is None:
        return error_body(
            403,
            "admin_disabled",
            "set BRIDGE_ADMIN_TOKEN in the web process's environment to enable the status page",
        )
    if bearer_matches(settings.admin_token, request) or basic_password_matches(
        settings.admin_token.reveal(), request
    ):
        return None
    return error_body(
        401,
        "unauthorised",
        "the status page needs BRIDGE_ADMIN_TOKEN as the password (any user name)",
        {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
    )


def parse_filters(params: Any) -> Filters:
    """``?conversation=1287&outcome=ignore``; empty values mean no filter; a ``#`` before the id is fine."""
    raw_id = str(params.get("conversation", "")).strip().lstrip("#").strip()
    conversation_id: int | None = None
    if raw_id:
        if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 18):
            raise FilterError("conversation must be a FreeScout conversation id (digits)")
        conversation_id = int(raw_id)
    outcome = str(params.get("outcome", "")).strip()
    if len(outcome) > MAX_OUTCOME_LENGTH or not all(
        c.isascii() and (c.isalnum() or c == "_") for c in outcome
    ):
        raise FilterError("outcome must be one of the outcomes the page offers")
    return Filters(conversation_id, outcome or None)


def mailbox_labels(configured: tuple[str | int, ...], directory: MailboxDirectory | None) -> tuple[str, ...]:
    """The handled mailboxes as configured, with FreeScout's name for an id and a flag for unknown ones."""
    labels = []
    for ref in configured:
        label = str(ref)
        if directory is not None and directory.loaded:
            if isinstance(ref, int):
                label = f"{directory.name(ref)} (id {ref})"
            if ref in directory.unknown:
                label += " (FreeScout has no such mailbox)"
        labels.append(label)
    return tuple(labels)


def gather(settings: Settings, metrics: Metrics, mailboxes: MailboxDirectory | None) -> StatusFacts:
    """The page's facts from settings and what the process observed (no upstream call)."""
    activity = metrics.activity
    config = settings.config
    gate = metrics.budget
    return StatusFacts(
        now=activity.clock(),
        autolink=settings.autolink_enabled,
        repository=settings.github_repository,
        mailboxes=mailbox_labels(config.mailboxes, mailboxes),
        tags=config.tags,
        cutoff=cutoff.describe(config.link_since, config.max_age_days, datetime.now(UTC)),
        held_back=None if activity.last_sweep is None else activity.last_sweep.held_back,
        sweep_interval=config.sweep_interval_seconds,
        last_sweep=activity.last_sweep,
        next_sweep_at=activity.next_sweep_at,
        budget_left=None if gate is None else gate.budget_left(),
        budget_limits={"minute": config.github_content_per_minute, "hour": config.github_content_per_hour},
        retry_after=0.0 if gate is None else gate.blocked_for(),
        upstream_success=dict(metrics.last_success_wall),
    )


def status_routes(
    settings: Settings, metrics: Metrics, mailboxes: Callable[[Request], MailboxDirectory | None]
) -> list[Route]:
    """The page; ``mailboxes`` gives the lifespan's mailbox directory for a request."""

    async def status(request: Request) -> Response:
        refused = refusal(settings, request)
        if refused is not None:
            return refused
        try:
            filters = parse_filters(request.query_params)
        except FilterError as exc:
            return error_body(400, "invalid_filter", str(exc))
        ring = metrics.activity.decisions
        html = render_page(
            gather(settings, metrics, mailboxes(request)),
            ring.recent(filters.conversation_id, filters.outcome),
            ring.counts(3600),
            ring.counts(86400),
            filters,
            ring.outcomes(),
            ring.size,
        )
        return HTMLResponse(html, headers=HEADERS)

    return [Route(STATUS_PATH, status, methods=["GET"], name="status")]
