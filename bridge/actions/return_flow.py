"""Direction B's return path: an issue closed, reopened or commented ``/support`` reaches its tickets.

The run only routes the event (``bridge.return_path.route_event``) and hands the issue to the same shell
the web process uses (``bridge.fan_out.reconcile_issue``), which reads the issue, its comments and every
linked ticket fresh and writes only what each ticket lacks. A re-run, a second transport or a concurrent
run therefore writes nothing twice. The run is one-shot, so a note in doubt is waited for inside the job
(``bridge.in_doubt``) before the step fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import anyio.to_thread

from bridge import retry
from bridge.actions.config import ActionsConfig
from bridge.actions.github import IssueClient
from bridge.actions.render import Problem, Report
from bridge.fan_out import FanOutReport, Target, reconcile_issue
from bridge.freescout_api import FreeScoutAPI
from bridge.github_model import IssueComment, IssueView
from bridge.in_doubt import Ledger, Policy
from bridge.locks import KeyedLocks
from bridge.return_path import Ignore, Reconcile, route_event
from bridge.settings import ReturnPathConfig, StatusPolicy

T = TypeVar("T")

#: The comments the workflow's own token posts: never a request to support.
ACTIONS_BOT = "github-actions[bot]"
#: ``[return_path]`` for a workflow, from its step environment (values: nothing, note, note_and_activate).
POLICY_VARIABLES = {
    "FREESCOUT_ON_COMPLETED": "on_completed",
    "FREESCOUT_ON_NOT_PLANNED": "on_not_planned",
    "FREESCOUT_ON_DUPLICATE": "on_duplicate",
    "FREESCOUT_ON_REOPENED": "on_reopened",
}


def is_return_path_event(event_name: str, payload: Any) -> bool:
    """``issues`` closed/reopened and ``issue_comment`` created go this way; labels go to the flows."""
    action = payload.get("action") if isinstance(payload, Mapping) else None
    return (event_name == "issues" and action in ("closed", "reopened")) or (
        event_name == "issue_comment" and action == "created"
    )


def return_path_config(env: Mapping[str, str]) -> tuple[ReturnPathConfig, dict[str, str]]:
    """The status policies from the environment, and a problem per variable that holds no policy."""
    values: dict[str, StatusPolicy] = {}
    problems: dict[str, str] = {}
    for variable, name in POLICY_VARIABLES.items():
        text = (env.get(variable) or "").strip().lower()
        if not text:
            continue
        try:
            values[name] = StatusPolicy(text)
        except ValueError:
            problems[variable] = "must be one of: " + ", ".join(p.value for p in StatusPolicy)
    return ReturnPathConfig(**values), problems  # type: ignore[arg-type]


class ActionsIssueSource:
    """``bridge.fan_out.IssueSource`` over the workflow's GitHub client (reads retried, in a thread)."""

    def __init__(self, issues: IssueClient) -> None:
        self._issues = issues

    async def issue_view(self, number: int) -> IssueView | None:
        return await _read(lambda: self._issues.issue_view(number))

    async def issue_comments(self, number: int) -> list[IssueComment]:
        return await _read(lambda: self._issues.issue_comments(number))


async def _read(fn: Callable[[], T]) -> T:
    async def attempt() -> T:
        return await anyio.to_thread.run_sync(fn)

    return await retry.call(attempt)


async def reconcile_from_event(
    cfg: ActionsConfig,
    config: ReturnPathConfig,
    event_name: str,
    payload: Mapping[str, Any],
    issues: IssueClient,
    freescout: FreeScoutAPI,
    report: Report,
) -> None:
    """Route the event, reconcile the issue's tickets, and tell the step summary what happened."""
    routed = route_event(event_name, payload, repository=cfg.repository, bridge_logins=(ACTIONS_BOT,))
    if isinstance(routed, Ignore):
        report.outcome, report.reason = "skipped", routed.detail or routed.reason
        return
    assert isinstance(routed, Reconcile)
    seconds = cfg.in_doubt_freescout_seconds
    target = Target(
        config=config,
        bot_user_id=cfg.bot_user_id,
        live=cfg.live,
        policy=Policy(window=seconds, patience=seconds, poll=min(2.0, max(seconds / 10, 0.05))),
        bridge_logins=(ACTIONS_BOT,),
    )
    result = await reconcile_issue(
        routed.issue_number,
        repository=cfg.repository,
        source=ActionsIssueSource(issues),
        freescout=freescout,
        target=target,
        ledger=Ledger(),
        locks=KeyedLocks(),
    )
    _report(result, cfg, report)


def _report(result: FanOutReport, cfg: ActionsConfig, report: Report) -> None:
    counts = result.counts()
    if result.outcome != "reconciled":
        report.outcome, report.reason = "skipped", result.outcome.replace("_", " ")
        return
    report.reason = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no linked tickets"
    report.outcome = "failed" if result.failed else ("updated" if report.live else "would_update")
    if not counts:
        report.outcome = "skipped"
    for ticket in result.tickets:
        url = f"{cfg.freescout_url}/conversation/{ticket.conversation_id}"
        report.links.append((f"FreeScout ticket {ticket.conversation_id}", url))
        report.writes.extend(f"ticket {ticket.conversation_id}: {w}" for w in ticket.writes)
        if ticket.outcome == "failed":
            report.problems.append(
                Problem(
                    "",
                    f"ticket {ticket.conversation_id} was not updated ({ticket.reason}); re-run this job: it "
                    "writes only what is still missing",
                )
            )
