"""The web process runs every sweep pass: one at a time, on its schedule or when an operator asks.

Why: neither FreeScout nor GitHub offers compare-and-set, so only one process can guarantee one issue per
conversation, through its per-conversation locks and its single GitHub write slot. A ``freescout-bridge
sweep`` in another process or host cannot take those locks; it asks this process to run the pass instead
(``POST /admin/sweep``) and polls the result (runbooks/deploy.md section 4).

The API is asynchronous on purpose: a pass paced by GitHub's write budget can take minutes, and Heroku's
router cuts a request at 30 s. A request that arrives while the same pass is running joins it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge import logs
from bridge.answers import bearer_matches, error_body, json_response, unauthorised
from bridge.cli.commands import Result, shadow, sweep_once
from bridge.cli.doctor import Exit
from bridge.freescout_api import FreeScoutAPI
from bridge.github_api import GitHubIssues
from bridge.linker import Linker
from bridge.mailboxes import MailboxDirectory
from bridge.metrics import Metrics
from bridge.settings import MailboxRef, Settings, mailbox_ref

log = logs.get_logger()

KEEP_RESULTS = 20
MAX_BODY_BYTES = 16 * 1024
MAX_MAILBOXES = 100
SWEEP_PATH = "/admin/sweep"


@dataclass(frozen=True)
class SweepRequest:
    """What a pass is asked to do; two requests with the same scope share one pass."""

    dry_run: bool = False
    mailboxes: tuple[MailboxRef, ...] = ()

    def same_pass(self, other: SweepRequest) -> bool:
        return self.dry_run == other.dry_run and set(self.mailboxes) == set(other.mailboxes)


@dataclass
class SweepPass:
    """One pass and, once it ends, its result (the same ``Result`` the local command produces)."""

    id: str
    request: SweepRequest
    source: str
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    result: Result | None = None
    failure: str = ""
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def state(self) -> str:
        if not self.finished.is_set():
            return "running"
        return "done" if self.result is not None and "error" not in self.result.data else "failed"

    def as_dict(self) -> dict[str, Any]:
        """The body of ``GET /admin/sweep/{id}``; ``text`` is what ``freescout-bridge sweep`` prints."""
        body: dict[str, Any] = {
            "sweep_id": self.id,
            "state": self.state,
            "dry_run": self.request.dry_run,
            "mailboxes": list(self.request.mailboxes),
            "started_at": round(self.started_at, 3),
            "finished_at": None if self.finished_at is None else round(self.finished_at, 3),
        }
        if self.result is None:
            if self.failure:
                body.update(exit_code=int(Exit.FAILED), error="unexpected", message=self.failure)
                body["text"] = self.failure
            return body
        body["exit_code"] = int(self.result.exit)
        body["text"] = self.result.text
        if "error" in self.result.data:
            body.update(error=self.result.data["error"], message=self.result.data.get("message", ""))
        else:
            body["report"] = self.result.data
        return body


@dataclass
class _Upstreams:
    linker: Linker
    freescout: FreeScoutAPI
    github: GitHubIssues
    mailboxes: MailboxDirectory


class SweepBusy(Exception):
    """A different pass (another scope or mode) is running; the caller may wait for it and ask again."""

    def __init__(self, running: SweepPass) -> None:
        super().__init__(running.id)
        self.running = running


class SweepRunner:
    """At most one sweep pass per web process; the schedule and ``POST /admin/sweep`` both go through here.

    The pass runs under the web process's own linker, so its per-conversation locks and GitHub write slot
    serialise it against webhooks. Results of the last ``keep`` passes stay in memory for polling.
    """

    def __init__(self, settings: Settings, metrics: Metrics, keep: int = KEEP_RESULTS) -> None:
        self._settings = settings
        self._metrics = metrics
        self._keep = keep
        self._lock = asyncio.Lock()
        self._upstreams: _Upstreams | None = None
        self._current: SweepPass | None = None
        self._task: asyncio.Task[None] | None = None
        self._passes: OrderedDict[str, SweepPass] = OrderedDict()

    def attach(
        self, linker: Linker, freescout: FreeScoutAPI, github: GitHubIssues, mailboxes: MailboxDirectory
    ) -> None:
        """Bind the clients the lifespan built (the runner exists before them, the routes need it)."""
        self._upstreams = _Upstreams(linker, freescout, github, mailboxes)

    @property
    def ready(self) -> bool:
        return self._upstreams is not None

    def get(self, sweep_id: str) -> SweepPass | None:
        return self._passes.get(sweep_id)

    def start(self, request: SweepRequest, source: str = "admin") -> tuple[SweepPass, bool]:
        """Start a pass, or join the running one if it does the same; ``(pass, joined)``.

        Synchronous between the check and the start, so two requests on the event loop cannot both start.
        Raises ``SweepBusy`` while a different pass runs.
        """
        running = self._current
        if running is not None and not running.finished.is_set():
            if running.request.same_pass(request):
                log.info("sweep_joined", sweep_id=running.id, source=source)
                return running, True
            raise SweepBusy(running)
        sweep_pass = SweepPass(os.urandom(6).hex(), request, source)
        self._current = sweep_pass
        self._remember(sweep_pass)
        self._task = asyncio.create_task(self._run(sweep_pass), name=f"sweep-{sweep_pass.id}")
        log.info(
            "sweep_started",
            sweep_id=sweep_pass.id,
            source=source,
            dry_run=request.dry_run,
            mailboxes=[str(m) for m in request.mailboxes],
        )
        return sweep_pass, False

    async def run(self, request: SweepRequest, source: str = "schedule") -> SweepPass:
        """Start or join a pass and wait for its end; after a different pass, start this one (the schedule)."""
        while True:
            try:
                sweep_pass, _joined = self.start(request, source)
            except SweepBusy as busy:
                await busy.running.finished.wait()
                continue
            await sweep_pass.finished.wait()
            return sweep_pass

    async def close(self) -> None:
        """Stop a running pass at shutdown (a half-done link is finished by the next pass)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _remember(self, sweep_pass: SweepPass) -> None:
        self._passes[sweep_pass.id] = sweep_pass
        for old in list(self._passes.values())[: max(0, len(self._passes) - self._keep)]:
            if old.finished.is_set():
                del self._passes[old.id]

    async def _run(self, sweep_pass: SweepPass) -> None:
        try:
            async with self._lock:
                with structlog.contextvars.bound_contextvars(sweep_id=sweep_pass.id):
                    sweep_pass.result = await self._execute(sweep_pass.request)
            self._count(sweep_pass)
        except asyncio.CancelledError:
            sweep_pass.failure = (
                "sweep stopped: the web process shut down mid-pass (the next pass finishes it)"
            )
            raise
        except Exception as exc:  # a bug in one pass must not end the schedule
            sweep_pass.failure = f"sweep failed: unexpected {type(exc).__name__} (details in the web log)"
            self._metrics.sweep_ended("failed", sweep_pass.source, sweep_pass.request.dry_run)
            log.error("sweep_failed", sweep_id=sweep_pass.id, error=type(exc).__name__, exc_info=True)
        finally:
            sweep_pass.finished_at = time.time()
            sweep_pass.finished.set()

    async def _execute(self, request: SweepRequest) -> Result:
        up = self._upstreams
        if up is None:
            raise RuntimeError("the sweep runner is not attached to the app's clients")
        settings, linker = self._settings, up.linker
        if request.dry_run:
            # A linker with autolink off decides and reports, and has no path to any write.
            settings = shadow(settings)
            linker = Linker(settings, up.freescout, up.github, up.mailboxes)
        return await sweep_once(
            settings, linker, up.freescout, up.mailboxes, request.mailboxes, dry_run=request.dry_run
        )

    def _count(self, sweep_pass: SweepPass) -> None:
        result = sweep_pass.result
        assert result is not None
        source, dry_run = sweep_pass.source, sweep_pass.request.dry_run
        if "error" in result.data:
            self._metrics.sweep_ended("failed", source, dry_run)
            log.warning("sweep_failed", sweep_id=sweep_pass.id, reason=str(result.data["error"]))
        else:
            ended = "stopped_early" if result.data.get("stopped_early") else "ok"
            self._metrics.sweep_ended(ended, source, dry_run)


# -- the HTTP side --------------------------------------------------------------------------------------


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
    unknown = sorted(set(data) - {"dry_run", "mailboxes"})
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
    return SweepRequest(dry_run=dry_run, mailboxes=refs)


def admin_routes(settings: Settings, runner: SweepRunner) -> list[Route]:
    """``POST /admin/sweep`` and ``GET /admin/sweep/{sweep_id}``, both behind the admin token."""

    def guarded(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            refused = check_token(settings, request)
            if refused is not None:
                return refused
            if not runner.ready:
                return error_body(409, "not_ready", "the web process is still starting; try again")
            return await handler(request)

        return endpoint

    async def start_sweep(request: Request) -> Response:
        try:
            wanted = parse_sweep_request(await _small_body(request))
        except BadRequest as exc:
            return error_body(400, exc.error, exc.message)
        try:
            sweep_pass, joined = runner.start(wanted)
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
        sweep_pass = runner.get(sweep_id)
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
