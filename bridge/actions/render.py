"""What Direction B writes and says: ticket and note HTML, workflow commands, the step summary. Pure.

Issue titles and bodies are untrusted: they reach FreeScout HTML-escaped only, and never reach the log or
the step summary at all (the summary names the issue by ``owner/repo#n``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from bridge.actions.decide import CONFIRM_PHRASE, IssueState
from bridge.errors import UpstreamError, WriteInDoubt
from bridge.text import clean
from bridge.vocab import SENTINEL

QUOTE_LINES = 12
QUOTE_CHARS = 2000
SUBJECT_CHARS = 250
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


def conversation_url(freescout_url: str, conversation_id: int) -> str:
    return f"{freescout_url}/conversation/{int(conversation_id)}"


def issue_ref(repository: str, number: int) -> str:
    return f"{repository}#{int(number)}"


def subject(title: str) -> str:
    """The ticket subject: the issue title on one line, within a sane length."""
    flat = re.sub(r"\s+", " ", clean(title)).strip() or "(untitled GitHub issue)"
    return flat if len(flat) <= SUBJECT_CHARS else flat[: SUBJECT_CHARS - 1].rstrip() + "…"


def first_lines(body: str, lines: int = QUOTE_LINES, chars: int = QUOTE_CHARS) -> str:
    """The opening lines of an issue body as plain text (hidden HTML comments dropped), bounded."""
    text = _HTML_COMMENT.sub("", clean(body or "")).replace("\r\n", "\n").strip()
    kept = [line.rstrip() for line in text.split("\n")][:lines]
    out = "\n".join(kept).strip()
    if len(out) > chars:
        out = out[: chars - 1].rstrip() + "…"
    if len(kept) < len(text.split("\n")) and not out.endswith("…"):
        out += "\n…"
    return out


def _quote(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.split("\n"))


def ticket_html(issue: IssueState, repository: str, label: str, sender: str) -> str:
    """The first (and only) thread of a created ticket: an internal note by the bot, never a message.

    It names the issue URL, so Direction A's ``our_note_exists`` already treats the ticket as linked.
    """
    url = html.escape(issue.html_url, quote=True)
    ref = html.escape(issue_ref(repository, issue.number))
    who = f" by @{html.escape(sender)}" if sender else ""
    excerpt = first_lines(issue.body)
    parts = [
        f'<p>{SENTINEL} Filed from GitHub issue <a href="{url}">{ref}</a> when the label '
        f"<code>{html.escape(label)}</code> was added{who}.</p>",
        f"<p><strong>{html.escape(subject(issue.title))}</strong></p>",
        f"<blockquote>{_quote(excerpt)}</blockquote>"
        if excerpt
        else "<p><em>(the issue has no text)</em></p>",
        f'<p>Engineering follows up on <a href="{url}">the issue</a>; this ticket was created without '
        "emailing anybody.</p>",
    ]
    return "\n".join(parts)


def confirm_note_html(issue: IssueState, repository: str, sender: str) -> str:
    """The internal note asking support to get the customer's confirmation."""
    url = html.escape(issue.html_url, quote=True)
    ref = html.escape(issue_ref(repository, issue.number))
    who = f"@{html.escape(sender)}" if sender else "Engineering"
    return (
        f'<p>{SENTINEL} {CONFIRM_PHRASE} on GitHub issue <a href="{url}">{ref}</a>.</p>\n'
        f"<p>{who} added the label <code>needs-customer-confirm</code>: please ask the customer to confirm "
        "(for example that the fix works or that the problem still happens) and report back on the issue.</p>"
    )


# --- GitHub workflow commands -------------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, title: str = "") -> str:
    """``::error title=…::message`` (or ``warning``/``notice``), escaped per the workflow-command rules."""
    props = f" title={_escape_property(title)}" if title else ""
    return f"::{level}{props}::{_escape_data(message)}"


def add_mask(value: str) -> str:
    return f"::add-mask::{_escape_data(value)}"


# --- Outcome and step summary ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Something the user must fix: ``variable`` names the secret or variable (or setting) to change."""

    variable: str
    message: str


@dataclass
class Report:
    """Everything one run decided and did; the summary, the log line and the exit code come from it."""

    outcome: str = "skipped"
    reason: str = ""
    live: bool = False
    issue: str = ""
    issue_url: str = ""
    label: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """Only a live run fails the step; a dry run reports problems as warnings."""
        return 1 if self.problems and self.live else 0


_HEADLINES = {
    "created": "ticket created",
    "finished": "earlier ticket found and finished",
    "noted": "customer confirmation requested",
    "updated": "linked tickets told",
    "skipped": "nothing to do",
    "failed": "failed",
}


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def headline(report: Report) -> str:
    if report.outcome.startswith("would_"):
        return "dry run"
    return _HEADLINES.get(report.outcome, report.outcome)


def summary_markdown(report: Report) -> str:
    """A short Markdown summary for ``$GITHUB_STEP_SUMMARY``: decision, reason, links, fixes."""
    lines = [f"### FreeScout sync: {headline(report)}", ""]
    if report.issue:
        target = f"[{report.issue}]({report.issue_url})" if report.issue_url else report.issue
        lines.append(f"- **Issue:** {target}")
    if report.label:
        lines.append(f"- **Label:** {_code(report.label)}")
    mode = (
        "live (`FLAG_FREESCOUT_GITHUB_AUTOLINK` is on)"
        if report.live
        else "dry run (`FLAG_FREESCOUT_GITHUB_AUTOLINK` is off): nothing was written"
    )
    lines.append(f"- **Mode:** {mode}")
    lines.append(f"- **Decision:** {report.outcome}" + (f" — {report.reason}" if report.reason else ""))
    lines.extend(f"- **{name}:** [{url}]({url})" for name, url in report.links)
    if report.writes:
        verb = "Wrote" if report.live else "Would write"
        lines.extend(["", f"**{verb}:**", *(f"1. {w}" for w in report.writes)])
    if report.problems:
        lines.extend(["", "**To fix:**"])
        lines.extend(
            f"- {_code(p.variable)}: {p.message}" if p.variable else f"- {p.message}" for p in report.problems
        )
    return "\n".join(lines) + "\n"


def log_line(report: Report) -> str:
    parts = [f"outcome={report.outcome}", f"live={str(report.live).lower()}"]
    if report.issue:
        parts.append(f"issue={report.issue}")
    if report.label:
        parts.append(f"label={report.label}")
    parts.extend(f"{name.lower().replace(' ', '_')}={url}" for name, url in report.links)
    return "freescout-sync: " + " ".join(parts) + (f" — {report.reason}" if report.reason else "")


# --- Errors become instructions --------------------------------------------------------------------------

_FREESCOUT_BY_OPERATION = {
    ("list_mailboxes", 404): "FREESCOUT_URL",
    ("mailbox_custom_fields", 404): "FREESCOUT_OPS_MAILBOX",
    ("get_user", 404): "FREESCOUT_BOT_USER_ID",
    ("add_thread", 400): "FREESCOUT_BOT_USER_ID",
    ("create_conversation", 400): "FREESCOUT_BOT_USER_ID",
    ("mailbox_custom_fields", 400): "FREESCOUT_URL",
    ("set_tags", 400): "FREESCOUT_URL",
}
_FREESCOUT_MESSAGES = {
    "FREESCOUT_OPS_MAILBOX": "FreeScout has no such mailbox; set FREESCOUT_OPS_MAILBOX to the ops mailbox's "
    "email address or numeric id",
    "FREESCOUT_BOT_USER_ID": "FreeScout rejected the bot user; set FREESCOUT_BOT_USER_ID to the id of an "
    "existing FreeScout user (Manage → Users, the number in the user's URL)",
    "FREESCOUT_URL": "check that FREESCOUT_URL is the FreeScout root URL and that the API & Webhooks, "
    "Custom Fields and Tags modules are active",
}
_GITHUB_BY_STATUS = {
    401: (
        "GITHUB_TOKEN",
        "GitHub refused the token; pass `GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` in env",
    ),
    403: ("permissions", "the token may not write issues; give the job `permissions: issues: write`"),
    404: ("GITHUB_REPOSITORY", "GitHub cannot find the issue in GITHUB_REPOSITORY with this token"),
    410: ("GITHUB_REPOSITORY", "issues are disabled or the issue was deleted in GITHUB_REPOSITORY"),
}


def explain(error: UpstreamError) -> Problem:
    """Turn an upstream failure into the setting to fix and a sentence saying how."""
    status = error.status or 0
    what = f"{error.api} {error.operation}: {error.reason}"
    if isinstance(error, WriteInDoubt):
        upstream, variable = (
            ("FreeScout", "FREESCOUT_URL") if error.api == "freescout" else ("GitHub", "GITHUB_API_URL")
        )
        return Problem(
            variable,
            f"{what} — {upstream} did not say whether the write happened and it has not shown up yet, so "
            "this run stops rather than risk a second copy. Re-run this job in a few minutes: the re-run "
            f"looks for it first and finishes the job either way (if it keeps failing, check {variable})",
        )
    if error.transient:
        variable = "FREESCOUT_URL" if error.api == "freescout" else "GITHUB_API_URL"
        return Problem(variable, f"{what}, still failing after retries; check {variable} or re-run the job")
    if error.api == "freescout":
        if status == 401:
            return Problem(
                "FREESCOUT_API_KEY",
                "FreeScout refused the API key (HTTP 401); set FREESCOUT_API_KEY to the API Key from "
                "Manage → Settings → API & Webhooks",
            )
        variable = _FREESCOUT_BY_OPERATION.get((error.operation, status), "FREESCOUT_URL")
        return Problem(variable, f"{what} — {_FREESCOUT_MESSAGES[variable]}")
    variable, message = _GITHUB_BY_STATUS.get(status, ("GITHUB_TOKEN", error.hint or "see the job log"))
    return Problem(variable, f"{what} — {message}")
