"""What each ``freescout-bridge`` sub-command does; ``bridge.cli`` parses arguments and prints.

Every runner returns a ``Result``: the exit code, the ``--json`` object and the human text. None of them
prints, so the same result serves both output modes and the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bridge import retry
from bridge.cli.doctor import WEBHOOK_EVENTS, WEBHOOK_PATH, Check, Exit, evaluate, exit_code, webhook_urls
from bridge.cli.doctor_gather import base_facts, gather_freescout, gather_github, read_settings
from bridge.cli.explain import outcome_line, reason_sentence
from bridge.cli.services import services
from bridge.errors import UpstreamError
from bridge.freescout_api import FreeScoutAPI
from bridge.linker import Linker, Outcome
from bridge.mailboxes import MailboxDirectory
from bridge.settings import Settings
from bridge.sweep import sweep

CHECK_SECONDS = 120.0
SYNC_SECONDS = 60.0
SWEEP_SECONDS = 3600.0


@dataclass
class Result:
    exit: Exit
    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""


def upstream_exit(exc: UpstreamError) -> Exit:
    return Exit.UNREACHABLE if exc.transient else Exit.FAILED


def upstream_text(exc: UpstreamError) -> str:
    text = f"{exc.api} {exc.operation} failed: {exc.reason}" + (f" (HTTP {exc.status})" if exc.status else "")
    return text + (f" — {exc.hint}" if exc.hint else "")


# -- check ------------------------------------------------------------------------------------------------


def render_checks(
    checks: list[Check], code: Exit, webhooks: list[str], *, fixed: tuple[str, ...] = ()
) -> str:
    lines = ["freescout-bridge check"]
    for check in checks:
        mark = "[ok]  " if check.ok else "[FAIL]"
        lines.append(f"{mark} {check.name}: {check.detail}")
        if not check.ok and check.fix:
            lines.append(f"       fix: {check.fix}")
    failed = sum(not c.ok for c in checks)
    if failed:
        lines.append(f"{failed} of {len(checks)} checks failed (exit {int(code)}).")
    else:
        lines.append(f"All {len(checks)} checks passed.")
    if fixed:
        lines.append("--fix created: " + ", ".join(fixed))
    if webhooks:
        lines.append("")
        lines.append("FreeScout → Manage → Settings → API & Webhooks → Webhooks: one webhook per URL")
        lines.extend(f"  url:    {url}" for url in webhooks)
        lines.append("  events: " + ", ".join(WEBHOOK_EVENTS))
    return "\n".join(lines)


async def run_check(env: Mapping[str, str], public_url: str, *, fix: bool) -> Result:
    """Gather facts (reads only, plus missing labels with ``fix``), judge them, render the checklist."""
    facts, settings = read_settings(env)
    if settings is not None:
        facts = base_facts(facts, settings, public_url)
        with retry.deadline_in(CHECK_SECONDS):
            async with services(settings) as svc:
                facts = await gather_freescout(facts, settings, svc.freescout)
                facts = await gather_github(facts, svc.github, fix=fix)
    checks = evaluate(facts)
    code = exit_code(checks)
    if facts.public_url:
        urls = webhook_urls(facts.public_url, facts.routes)
    else:
        urls = [WEBHOOK_PATH.format(route=r) for r in facts.routes]
    data = {
        "ok": code is Exit.OK,
        "exit_code": int(code),
        "checks": [c.as_dict() for c in checks],
        "labels_created": list(facts.labels_created),
        "webhook": {"urls": urls, "events": list(WEBHOOK_EVENTS)},
    }
    return Result(code, data, render_checks(checks, code, urls, fixed=facts.labels_created))


# -- sync -------------------------------------------------------------------------------------------------


def shadow(settings: Settings) -> Settings:
    """The same settings with autolink off: the linker decides and reports, and writes nothing."""
    return replace(settings, autolink_enabled=False)


async def run_sync(settings: Settings, conversation_id: int, *, dry_run: bool, closing: bool) -> Result:
    """Direction A for one conversation, now, through ``Linker.reconcile``."""
    if dry_run:
        settings = shadow(settings)
    base: dict[str, Any] = {
        "conversation_id": conversation_id,
        "dry_run": dry_run,
        "autolink_enabled": settings.autolink_enabled,
    }
    async with services(settings) as svc:
        try:
            with retry.deadline_in(SYNC_SECONDS):
                outcome = await svc.linker.reconcile(conversation_id, closing=closing)
        except UpstreamError as exc:
            conv = svc.freescout.seen.get(conversation_id)
            if exc.reason == "field_missing_in_mailbox":
                outcome = Outcome("misconfigured", exc.reason)
                line = outcome_line(conversation_id, outcome, conv, settings.config, dry_run=dry_run)
                data = {**base, "decision": "misconfigured", "reason": exc.reason, "line": line}
                return Result(Exit.FAILED, data, line)
            line = f"#{conversation_id} failed: {upstream_text(exc)}"
            if exc.api == "freescout" and exc.status == 404 and conv is None:
                line = f"#{conversation_id} failed: FreeScout has no conversation with id {conversation_id}"
            data = {**base, "decision": "error", "reason": f"{exc.api}:{exc.reason}", "line": line}
            return Result(upstream_exit(exc), data, line)
        conv = svc.freescout.seen.get(conversation_id)
    line = outcome_line(conversation_id, outcome, conv, settings.config, dry_run=dry_run)
    data = {
        **base,
        "number": conv.number if conv else None,
        "decision": outcome.decision,
        "reason": outcome.reason,
        "explanation": reason_sentence(outcome.reason, conv, settings.config, outcome.issue_url),
        "issue_url": outcome.issue_url,
        "writes": list(outcome.writes),
        "line": line,
    }
    failed = outcome.decision in ("would_fail", "misconfigured")
    return Result(Exit.FAILED if failed else Exit.OK, data, line)


# -- sweep ------------------------------------------------------------------------------------------------


def render_sweep(report: dict[str, Any], dry_run: bool, notes: list[str]) -> str:
    mode = " (dry run: nothing written)" if dry_run else ""
    lines = [f"sweep{mode}: {report['candidates']} candidate conversation(s)"]
    for decision, count in sorted(report["outcomes"].items()):
        lines.append(f"  {decision}: {count}")
    for error, count in sorted(report["errors"].items()):
        lines.append(f"  error {error}: {count}")
    if report["stopped_early"]:
        lines.append(f"  stopped early: {report['stopped_early']} (the next sweep continues)")
    for cid, url in report["issue_urls"].items():
        lines.append(f"  #{cid} → {url}")
    lines.extend(f"  note: {n}" for n in notes)
    return "\n".join(lines)


async def _mailbox_scope(
    freescout: FreeScoutAPI, mailboxes: MailboxDirectory, refs: tuple[str | int, ...]
) -> tuple[frozenset[int] | None, list[str], list[str]]:
    """Resolve ``--mailbox`` values (ids or emails): the ids, the unknown values, and notes to print."""
    if not refs:
        return None, [], []
    wanted = MailboxDirectory(freescout, refs)
    await wanted.load()
    ids = wanted.configured_ids() or frozenset()
    await mailboxes.load()
    allowed = mailboxes.configured_ids()
    notes = []
    if allowed is not None and ids - allowed:
        skipped = ", ".join(str(i) for i in sorted(ids - allowed))
        notes.append(f"mailbox {skipped} is not in [autolink] mailboxes, so it was not swept")
    return ids, [str(u) for u in wanted.unknown], notes


async def sweep_once(
    settings: Settings,
    linker: Linker,
    freescout: FreeScoutAPI,
    mailboxes: MailboxDirectory,
    refs: tuple[str | int, ...],
    *,
    dry_run: bool,
) -> Result:
    """One pass with the given clients: the CLI's own (``run_sweep``) or the web process's (``bridge.admin``).

    For a dry run ``settings`` and ``linker`` are already the shadow ones. One function serves both places
    so their answers cannot drift apart.
    """
    try:
        with retry.deadline_in(SWEEP_SECONDS):
            only, unknown, notes = await _mailbox_scope(freescout, mailboxes, refs)
            if unknown:
                text = "unknown --mailbox: " + ", ".join(unknown) + " (FreeScout has no such mailbox)"
                return Result(Exit.USAGE, {"error": "unknown_mailbox", "message": text}, text)
            report = await sweep(linker, freescout, mailboxes, settings.config.tags, only)
    except UpstreamError as exc:
        text = f"sweep failed: {upstream_text(exc)}"
        return Result(upstream_exit(exc), {"error": f"{exc.api}:{exc.reason}", "message": text}, text)
    data = {**report.as_dict(), "dry_run": dry_run, "autolink_enabled": settings.autolink_enabled}
    code = Exit.FAILED if report.errors else Exit.OK
    return Result(code, {**data, "exit_code": int(code)}, render_sweep(data, dry_run, notes))


async def run_sweep(settings: Settings, *, dry_run: bool, mailboxes: tuple[str | int, ...]) -> Result:
    """One reconciler pass in this process, the same one the web process runs (``--local``)."""
    if dry_run:
        settings = shadow(settings)
    async with services(settings) as svc:
        return await sweep_once(
            settings, svc.linker, svc.freescout, svc.mailboxes, mailboxes, dry_run=dry_run
        )
