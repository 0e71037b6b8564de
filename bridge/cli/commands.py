"""What each ``freescout-bridge`` sub-command does; ``bridge.cli`` parses arguments and prints.

Every runner returns a ``Result``: the exit code, the ``--json`` object and the human text. None of them
prints, so the same result serves both output modes and the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bridge import retry
from bridge.cli.doctor import (
    GITHUB_WEBHOOK_EVENTS,
    WEBHOOK_EVENTS,
    WEBHOOK_PATH,
    Check,
    Exit,
    evaluate,
    exit_code,
    github_webhook_url,
    webhook_urls,
)
from bridge.cli.doctor_gather import base_facts, gather_freescout, gather_github, read_settings
from bridge.cli.explain import outcome_line, reason_sentence
from bridge.cli.services import services
from bridge.cli.sweep_listing import listing_lines
from bridge.cutoff import held_back
from bridge.errors import UpstreamError, explain
from bridge.linker import Outcome
from bridge.settings import Settings, shadow
from bridge.sweep_runner import SweepRequest, SweepResult, sweep_once

CHECK_SECONDS = 120.0
SYNC_SECONDS = 60.0


@dataclass
class Result:
    exit: Exit
    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""


def upstream_exit(exc: UpstreamError) -> Exit:
    return Exit.UNREACHABLE if exc.transient else Exit.FAILED


# -- check ------------------------------------------------------------------------------------------------


def render_checks(
    checks: list[Check],
    code: Exit,
    webhooks: list[str],
    *,
    fixed: tuple[str, ...] = (),
    github_hook: str = "",
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
    if github_hook:
        lines.append("")
        lines.append(
            "GitHub → the repository's Settings → Webhooks → Add webhook (runbooks/close-the-loop.md):"
        )
        lines.append(f"  Payload URL:  {github_hook}")
        lines.append("  Content type: application/json; Secret: the value of GITHUB_WEBHOOK_SECRET")
        lines.append(
            "  events:       " + ", ".join(GITHUB_WEBHOOK_EVENTS) + " (Let me select individual events)"
        )
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
    github_hook = github_webhook_url(facts.public_url) if facts.github_webhook_secrets else ""
    if github_hook:
        data["github_webhook"] = {"url": github_hook, "events": list(GITHUB_WEBHOOK_EVENTS)}
    text = render_checks(checks, code, urls, fixed=facts.labels_created, github_hook=github_hook)
    return Result(code, data, text)


# -- sync -------------------------------------------------------------------------------------------------


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
                # Asked for by name: the cut-off that holds it back from webhooks and the sweep does not apply.
                outcome = await svc.linker.reconcile(conversation_id, closing=closing, honour_cutoff=False)
        except UpstreamError as exc:
            conv = svc.freescout.seen.get(conversation_id)
            if exc.reason == "field_missing_in_mailbox":
                outcome = Outcome("misconfigured", exc.reason)
                line = outcome_line(conversation_id, outcome, conv, settings.config, dry_run=dry_run)
                data = {**base, "decision": "misconfigured", "reason": exc.reason, "line": line}
                return Result(Exit.FAILED, data, line)
            line = f"#{conversation_id} failed: {explain(exc)}"
            if exc.api == "freescout" and exc.status == 404 and conv is None:
                line = f"#{conversation_id} failed: FreeScout has no conversation with id {conversation_id}"
            data = {**base, "decision": "error", "reason": f"{exc.api}:{exc.reason}", "line": line}
            return Result(upstream_exit(exc), data, line)
        conv = svc.freescout.seen.get(conversation_id)
    line = outcome_line(conversation_id, outcome, conv, settings.config, dry_run=dry_run)
    old = conv is not None and held_back(conv.created_at, settings.config.cutoff(datetime.now(UTC)))
    if old:
        line += " (created before the cut-off: webhooks and the sweep hold it back; sync does as asked)"
    data = {
        **base,
        "before_cutoff": old,
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

#: Sweep errors that mean the request itself was wrong (exit 2); upstream ones say whether to retry.
USAGE_ERRORS = frozenset({"unknown_mailbox"})


def render_sweep(report: dict[str, Any]) -> str:
    mode = " (dry run: nothing written)" if report.get("dry_run") else ""
    lines = [f"sweep{mode}: {report['candidates']} candidate conversation(s)"]
    for decision, count in sorted(report["outcomes"].items()):
        lines.append(f"  {decision}: {count}")
    for error, count in sorted(report["errors"].items()):
        lines.append(f"  error {error}: {count}")
    if report["stopped_early"]:
        lines.append(f"  stopped early: {report['stopped_early']} (the next sweep continues)")
    lines.extend(listing_lines(report))  # one line per conversation, issue URLs included
    catch_up = report.get("catch_up")
    if catch_up and (catch_up["issues"] or catch_up["stopped_early"]):  # silent when no issue is recent
        tickets = ", ".join(f"{k} {v}" for k, v in sorted(catch_up["tickets"].items())) or "none"
        lines.append(
            f"  catch-up: {catch_up['issues']} recent issue(s), {catch_up['reconciled']} reconciled, "
            f"{catch_up['unchanged']} unchanged; tickets: {tickets}"
        )
        if catch_up["stopped_early"]:
            lines.append(f"  catch-up stopped early: {catch_up['stopped_early']}")
    skipped = report.get("skipped_mailboxes") or []
    if skipped:
        ids = ", ".join(str(i) for i in skipped)
        lines.append(f"  note: mailbox {ids} is not in [autolink] mailboxes, so it was not swept")
    return "\n".join(lines)


def sweep_result(result: SweepResult, where: dict[str, Any], note: str = "") -> Result:
    """The one place a sweep's result, from this process or from the web process, becomes this command's
    exit code, ``--json`` object and text. ``where`` says where it ran (``via`` and friends) and joins the
    JSON; ``note`` ends the text."""
    if result.report is not None:
        code = Exit.FAILED if result.report.get("errors") else Exit.OK
        data = {**result.report, "exit_code": int(code), **where}
        text = render_sweep(result.report)
    else:
        if result.error in USAGE_ERRORS:
            code = Exit.USAGE
        else:
            code = Exit.UNREACHABLE if result.retryable else Exit.FAILED
        data = {"error": result.error, "message": result.message, **where}
        text = result.message
    if note:
        text = f"{text}\n  note: {note}" if text else f"note: {note}"
    return Result(code, data, text)


async def run_sweep(
    settings: Settings, *, dry_run: bool, mailboxes: tuple[str | int, ...], limit: int | None = None
) -> Result:
    """One reconciler pass in this process, the same one the web process runs (``--local``)."""
    async with services(settings) as svc:
        result = await sweep_once(settings, svc.upstreams, SweepRequest(dry_run, mailboxes, limit))
    return sweep_result(result, {"via": "local"})
