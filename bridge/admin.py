"""``POST /admin/sweep`` and ``GET /admin/sweep/{id}``: an operator asks the web process for a sweep pass.

Why here: the web process is the single writer (``bridge.sweep_runner``), so a ``freescout-bridge sweep``
in another process or host asks it to run the pass and polls the result (runbooks/deploy.md section 4).
The API is asynchronous on purpose: a pass paced by GitHub's write budget can take minutes, and Heroku's
router cuts a request at 30 s. A request that arrives while the same pass is running joins it. Answers are
data: the pass's state and its ``SweepResult`` (report or error), never text for a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.answers import bearer_matches, error_body, json_response, unauthorised
from bridge.settings import MailboxRef, Settings, mailbox_ref
from bridge.sweep_runner import KEEP_RESULTS, SweepBusy, SweepRequest, SweepRunner

MAX_BODY_BYTES = 16 * 1024
MAX_MAILBOXES = 100
SWEEP_PATH = "/admin/sweep"


class BadRequest(Exception):
    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


def check_token(settings: Settings, request: Request) -> Response | None:
    """``None`` if the request carries the admin token; else the refusal (these routes trigger writes)."""
    if settings.admin_token is None:
        return error_body(
            403,
            "admin_disabled",
            "set BRIDGE_ADMIN_TOKEN in the web process's environment to enable the admin endpoints "
            "(they trigger writes, so they never run without it)",
        )
    if not bearer_matches(settings.admin_token, request):
        return unauthorised()
    return None


async def _small_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadRequest("body_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _mailbox_ref(value: object) -> MailboxRef:
    try:
        return mailbox_ref(value, names=True)
    except ValueError:
        raise BadRequest("invalid_request", f"mailboxes: {value!r} is not a mailbox id or email") from None


def parse_sweep_request(raw: bytes) -> SweepRequest:
    """The optional JSON body ``{"dry_run": bool, "mailboxes": [id or email, ...]}``; empty means defaults."""
    if not raw.strip():
        return SweepRequest()
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("invalid_json", "the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("invalid_request", "the body must be a JSON object")
    unknown = sorted(set(data) - {"dry_run", "mailboxes", "limit"})
    if unknown:
        raise BadRequest("invalid_request", "unknown field(s): " + ", ".join(unknown)[:200])
    dry_run = data.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadRequest("invalid_request", "dry_run must be true or false")
    mailboxes = data.get("mailboxes", [])
    if not isinstance(mailboxes, list) or len(mailboxes) > MAX_MAILBOXES:
        raise BadRequest(
            "invalid_request", f"mailboxes must be a list of at most {MAX_MAILBOXES} ids or emails"
        )
    refs = tuple(dict.fromkeys(_mailbox_ref(m) for m in mailboxes))
    limit = data.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise BadRequest("invalid_request", "limit must be a positive whole number (or absent: no limit)")
    return SweepRequest(dry_run=dry_run, mailboxes=refs, limit=limit)


def _runner(request: Request) -> SweepRunner:
    """The web process's runner, from the lifespan's state."""
    runner: SweepRunner = request.state.sweeps
    return runner


def admin_routes(settings: Settings) -> list[Route]:
    """``POST /admin/sweep`` and ``GET /admin/sweep/{sweep_id}``, both behind the admin token."""

    def guarded(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            refused = check_token(settings, request)
            if refused is not None:
                return refused
            return await handler(request)

        return endpoint

    async def start_sweep(request: Request) -> Response:
        try:
            wanted = parse_sweep_request(await _small_body(request))
        except BadRequest as exc:
            return error_body(400, exc.error, exc.message)
        try:
            sweep_pass, joined = _runner(request).start(wanted)
        except SweepBusy as busy:
            busy_body = {
                "error": "sweep_busy",
                "message": f"a different sweep pass ({busy.running.id}) is running; ask again when it ends",
                "sweep_id": busy.running.id,
            }
            return json_response(busy_body, 409)
        body = {"sweep_id": sweep_pass.id, "state": "running", "joined": joined}
        return json_response(body, 202, {"Location": f"{SWEEP_PATH}/{sweep_pass.id}"})

    async def sweep_status(request: Request) -> Response:
        sweep_id = str(request.path_params["sweep_id"])
        sweep_pass = _runner(request).get(sweep_id)
        if sweep_pass is None:
            message = (
                f"this web process knows no sweep {sweep_id[:32]!r}: it keeps the last {KEEP_RESULTS} "
                "and forgets them when it restarts"
            )
            return error_body(404, "unknown_sweep", message)
        return json_response(sweep_pass.as_dict())

    return [
        Route(SWEEP_PATH, guarded(start_sweep), methods=["POST"], name="admin-sweep"),
        Route(SWEEP_PATH + "/{sweep_id}", guarded(sweep_status), methods=["GET"], name="admin-sweep-status"),
    ]
