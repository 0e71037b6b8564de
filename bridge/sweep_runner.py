"""Sweep passes: what one is asked to do, one pass at a time per process, and what it ended with.

Why: neither FreeScout nor GitHub offers compare-and-set, so only one process can guarantee one issue per
conversation, through its per-conversation locks and its single GitHub write slot. The web process runs
every pass through its ``SweepRunner`` (on its schedule and for ``POST /admin/sweep``); ``freescout-bridge
sweep --local`` runs ``sweep_once`` itself when the web process is down.

A pass ends in a ``SweepResult``: the report, or the error that stopped it, as data. The admin API sends
it as JSON; the operator CLI turns it, local or remote, into its text and exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import structlog

from bridge import logs, retry
from bridge.errors import UpstreamError, explain
from bridge.freescout_api import FreeScoutAPI
from bridge.linker import Linker, Outcome
from bridge.mailboxes import MailboxDirectory
from bridge.metrics import Metrics
from bridge.settings import MailboxRef, Settings, shadow
from bridge.sweep import OnItem, SweepScope, sweep
from bridge.wiring import Upstreams

log = logs.get_logger()

KEEP_RESULTS = 20
SWEEP_SECONDS = 3600.0


@dataclass(frozen=True)
class SweepRequest:
    """What a pass is asked to do; two requests with the same scope share one pass."""

    dry_run: bool = False
    mailboxes: tuple[MailboxRef, ...] = ()
    limit: int | None = None  # at most this many conversations this pass, oldest first (``--limit``)

    def same_pass(self, other: SweepRequest) -> bool:
        same_scope = self.dry_run == other.dry_run and set(self.mailboxes) == set(other.mailboxes)
        return same_scope and self.limit == other.limit


@dataclass(frozen=True)
class SweepResult:
    """The end of one pass: its ``report``, or an ``error`` with a ``message`` (``retryable`` when an
    upstream could not be reached: the same pass later may succeed)."""

    report: dict[str, Any] | None = None
    error: str = ""
    message: str = ""
    retryable: bool = False

    @classmethod
    def failed(cls, error: str, message: str, *, retryable: bool = False) -> SweepResult:
        return cls(None, error, message, retryable)

    def as_dict(self) -> dict[str, Any]:
        if self.report is not None:
            return {"report": self.report}
        return {"error": self.error, "message": self.message, "retryable": self.retryable}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepResult:
        """The inverse of ``as_dict`` for a result that crossed HTTP; anything malformed is an error."""
        report = data.get("report")
        if isinstance(report, dict):
            return cls(report)
        error, message = str(data.get("error") or "unexpected"), str(data.get("message") or "")
        return cls.failed(error, message, retryable=data.get("retryable") is True)


async def _mailbox_scope(
    freescout: FreeScoutAPI, mailboxes: MailboxDirectory, refs: tuple[MailboxRef, ...]
) -> tuple[frozenset[int] | None, list[str], list[int]]:
    """Resolve requested mailboxes (ids or emails): the ids, the unknown values, and the ids outside
    ``[autolink] mailboxes`` (not swept)."""
    if not refs:
        return None, [], []
    wanted = MailboxDirectory(freescout, refs)
    await wanted.load()
    ids = wanted.configured_ids() or frozenset()
    await mailboxes.load()
    allowed = mailboxes.configured_ids()
    skipped = sorted(ids - allowed) if allowed is not None else []
    return ids, [str(u) for u in wanted.unknown], skipped


async def sweep_once(
    settings: Settings, upstreams: Upstreams, request: SweepRequest, on_item: OnItem | None = None
) -> SweepResult:
    """One pass with the given clients: the web process's or the CLI's (``--local``), so the two cannot
    drift apart. A dry run gets a linker with autolink off, which decides and reports and cannot write.
    ``on_item`` hears each conversation's outcome (the web process's status page)."""
    linker = upstreams.linker
    if request.dry_run:
        settings = shadow(settings)
        linker = Linker(settings, upstreams.freescout, upstreams.github, upstreams.mailboxes)
    try:
        with retry.deadline_in(SWEEP_SECONDS):
            only, unknown, skipped = await _mailbox_scope(
                upstreams.freescout, upstreams.mailboxes, request.mailboxes
            )
            if unknown:
                message = "unknown --mailbox: " + ", ".join(unknown) + " (FreeScout has no such mailbox)"
                return SweepResult.failed("unknown_mailbox", message)
            config = settings.config
            scope = SweepScope(config.tags, only, config.link_since, config.max_age_days, request.limit)
            report = await sweep(linker, upstreams.freescout, upstreams.mailboxes, scope, on_item=on_item)
    except UpstreamError as exc:
        message = f"sweep failed: {explain(exc)}"
        return SweepResult.failed(f"{exc.api}:{exc.reason}", message, retryable=exc.transient)
    data = report.as_dict()
    data.update(
        dry_run=request.dry_run, autolink_enabled=settings.autolink_enabled, skipped_mailboxes=skipped
    )
    return SweepResult(data)


@dataclass
class SweepPass:
    """One pass in the runner and, once it ends, its result."""

    id: str
    request: SweepRequest
    source: str
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    result: SweepResult | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def state(self) -> str:
        if not self.finished.is_set():
            return "running"
        return "done" if self.result is not None and self.result.report is not None else "failed"

    def as_dict(self) -> dict[str, Any]:
        """The body of ``GET /admin/sweep/{id}``: the pass, and its result once it has one."""
        body: dict[str, Any] = {
            "sweep_id": self.id,
            "state": self.state,
            "dry_run": self.request.dry_run,
            "mailboxes": list(self.request.mailboxes),
            "limit": self.request.limit,
            "started_at": round(self.started_at, 3),
            "finished_at": None if self.finished_at is None else round(self.finished_at, 3),
        }
        if self.result is not None:
            body.update(self.result.as_dict())
        return body


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

    def __init__(
        self, settings: Settings, metrics: Metrics, upstreams: Upstreams | None, keep: int = KEEP_RESULTS
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._upstreams = upstreams
        self._keep = keep
        self._lock = asyncio.Lock()
        self._current: SweepPass | None = None
        self._task: asyncio.Task[None] | None = None
        self._passes: OrderedDict[str, SweepPass] = OrderedDict()

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
        except asyncio.CancelledError:
            message = "sweep stopped: the web process shut down mid-pass (the next pass finishes it)"
            sweep_pass.result = SweepResult.failed("stopped", message)
            raise
        except Exception as exc:
            message = f"sweep failed: unexpected {type(exc).__name__} (details in the web log)"
            sweep_pass.result = SweepResult.failed("unexpected", message)
            log.error("sweep_failed", sweep_id=sweep_pass.id, error=type(exc).__name__, exc_info=True)
        finally:
            sweep_pass.finished_at = time.time()
            sweep_pass.finished.set()
            self._count(sweep_pass)

    async def _execute(self, request: SweepRequest) -> SweepResult:
        if self._upstreams is None:
            raise RuntimeError("the sweep runner has no clients")
        return await sweep_once(self._settings, self._upstreams, request, self._on_item)

    def _on_item(self, conversation_id: int, outcome: Outcome) -> None:
        """Each conversation a pass handled goes to the status page's decision ring."""
        record = self._metrics.activity.decisions.record
        record("sweep", "sweep", conversation_id, outcome.decision, outcome.reason, outcome.issue_url)

    def _count(self, sweep_pass: SweepPass) -> None:
        result = sweep_pass.result
        source, dry_run = sweep_pass.source, sweep_pass.request.dry_run
        if result is None or result.report is None:
            self._metrics.sweep_ended("failed", source, dry_run)
            if result is not None and result.error not in ("unexpected", "stopped"):
                log.warning("sweep_failed", sweep_id=sweep_pass.id, reason=result.error)
        else:
            ended = "stopped_early" if result.report.get("stopped_early") else "ok"
            held = result.report.get("held_back")
            self._metrics.sweep_ended(ended, source, dry_run, held if isinstance(held, int) else None)
