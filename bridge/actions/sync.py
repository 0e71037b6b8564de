"""Direction B: a labelled GitHub issue becomes a FreeScout ticket or an internal note, from GitHub Actions.

Run as ``freescout-sync`` (or ``python -m bridge.actions.sync``) in a workflow on ``issues: [labeled]``.
The shell is thin: read the event and settings, re-read the issue, let ``actions_decide`` choose, do the
writes in a crash-safe order, and leave through one exit path that prints ``::error::`` annotations
naming the secret or variable to fix, one log line, and a Markdown step summary.

The behaviours live in ``actions_flows``, FreeScout look-ups in ``actions_freescout``, the pure
decisions in ``actions_decide`` and everything said to the user in ``actions_render``.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

import anyio

from bridge import retry
from bridge.actions.config import (
    ActionsConfig,
    ConfigError,
    is_live,
    load_actions_config,
    repository_of,
    secret_values,
)
from bridge.actions.decide import Decision, needs_ticket_settings, route
from bridge.actions.flows import Context, file_ticket, request_confirm
from bridge.actions.freescout import Desk, Misconfigured
from bridge.actions.github import IssueClient, make_actions_github
from bridge.actions.render import (
    Problem,
    Report,
    add_mask,
    annotation,
    explain,
    issue_ref,
    log_line,
    summary_markdown,
)
from bridge.actions.return_flow import is_return_path_event, reconcile_from_event, return_path_config
from bridge.errors import UpstreamError
from bridge.freescout_api import FreeScoutAPI, make_client

DEADLINE_SECONDS = 240.0


def read_payload(env: Mapping[str, str]) -> Any:
    path = (env.get("GITHUB_EVENT_PATH") or "").strip()
    if not path:
        raise ConfigError(
            {"GITHUB_EVENT_PATH": "is not set: run inside GitHub Actions or point it at a payload"}
        )
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            {"GITHUB_EVENT_PATH": f"cannot read the event payload ({type(exc).__name__})"}
        ) from exc


async def sync(env: Mapping[str, str], report: Report) -> None:
    """Decide from the event, then act on fresh state; everything the run did ends up in ``report``."""
    event_name = (env.get("GITHUB_EVENT_NAME") or "").strip()
    payload = read_payload(env)
    if is_return_path_event(event_name, payload):
        await sync_return_path(env, event_name, payload, report)
        return
    routed = route(event_name, payload)
    if isinstance(routed, Decision):
        report.reason = routed.detail
        return
    event = routed
    report.label = event.label
    report.issue = issue_ref(repository_of(env, event.repository) or "?", event.issue.number)
    report.issue_url = event.issue.html_url
    cfg = load_actions_config(
        env, need_ticket=needs_ticket_settings(event.label), payload_repository=event.repository
    )
    report.issue = issue_ref(cfg.repository, event.issue.number)
    async with clients(cfg) as (issues, freescout):
        ctx = Context(cfg, event, issues, Desk(freescout, cfg), report)
        if needs_ticket_settings(event.label):
            await file_ticket(ctx)
        else:
            await request_confirm(ctx)


@asynccontextmanager
async def clients(cfg: ActionsConfig) -> AsyncIterator[tuple[IssueClient, FreeScoutAPI]]:
    """The run's two clients, closed at the end, and the run's time budget."""
    gh = make_actions_github(
        cfg.github_token.reveal(), cfg.github_api_url, timeout=cfg.github_timeout_seconds
    )
    try:
        async with make_client(
            cfg.freescout_url, cfg.freescout_api_key.reveal(), cfg.freescout_timeout_seconds
        ) as http:
            with retry.deadline_in(DEADLINE_SECONDS):
                yield IssueClient(gh, cfg.repository), FreeScoutAPI(http)
    finally:
        gh.close()


async def sync_return_path(env: Mapping[str, str], event_name: str, payload: Any, report: Report) -> None:
    """An issue closed or reopened, or a ``/support`` comment: every linked ticket hears of it."""
    action = str(payload.get("action") or "")
    issue = payload.get("issue") if isinstance(payload.get("issue"), Mapping) else {}
    repository = payload.get("repository") if isinstance(payload.get("repository"), Mapping) else {}
    report.label = f"{event_name}.{action}"
    report.issue_url = str(issue.get("html_url") or "")
    cfg = load_actions_config(
        env, need_ticket=False, payload_repository=str(repository.get("full_name") or "")
    )
    config, problems = return_path_config(env)
    if problems:
        raise ConfigError(problems)
    report.issue = issue_ref(cfg.repository, int(issue.get("number") or 0))
    async with clients(cfg) as (issues, freescout):
        await reconcile_from_event(cfg, config, event_name, payload, issues, freescout, report)


def _redact(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, "***")
    return text


def run(env: Mapping[str, str], out: TextIO) -> int:
    """The one exit path: every outcome, skip and failure is reported the same way."""
    secrets = secret_values(env)
    for value in secrets:
        print(add_mask(value), file=out, flush=True)
    report = Report(live=is_live(env))
    try:
        anyio.run(sync, env, report)
    except ConfigError as exc:
        report.problems.extend(Problem(name, f"{name} {what}") for name, what in exc.problems.items())
    except Misconfigured as exc:
        report.problems.append(exc.problem)
    except UpstreamError as exc:
        report.problems.append(explain(exc))
    except Exception as exc:  # noqa: BLE001 - the outermost edge: report, never dump bodies
        where = "".join(traceback.format_tb(exc.__traceback__))  # code locations only, no values
        print(_redact(f"freescout-sync: unexpected {type(exc).__name__} at\n{where}", secrets), file=out)
        report.problems.append(Problem("", f"unexpected {type(exc).__name__}; see the job log and report it"))
    if report.problems:
        report.outcome = "failed"
    level = "error" if report.live else "warning"
    for problem in report.problems:
        title = f"freescout-sync: {problem.variable}" if problem.variable else "freescout-sync"
        print(_redact(annotation(level, problem.message, title), secrets), file=out)
    print(_redact(log_line(report), secrets), file=out, flush=True)
    summary_path = (env.get("GITHUB_STEP_SUMMARY") or "").strip()
    if summary_path:
        try:
            with open(summary_path, "a", encoding="utf-8") as fh:
                fh.write(_redact(summary_markdown(report), secrets))
        except OSError as exc:
            print(annotation("warning", f"cannot write the step summary ({type(exc).__name__})"), file=out)
    return report.exit_code


def main() -> int:
    return run(os.environ, sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
