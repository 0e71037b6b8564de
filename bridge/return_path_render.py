"""What the return path writes: notes on FreeScout tickets, and link record comments on GitHub. Pure.

Everything that comes from GitHub (titles, logins, comment text, URLs) is HTML-escaped, and a URL becomes
a link only when it is plain http(s): no raw HTML from GitHub ever reaches FreeScout. Each note starts
with its hidden notice key, which is how the bridge knows it was written.
"""

from __future__ import annotations

import html
import re

from bridge import text
from bridge.github_model import IssueComment, IssueView
from bridge.vocab import LinkRecord, link_record_marker, notice_marker

#: A FreeScout note stays readable; a longer ``/support`` comment is cut and linked.
NOTE_TEXT_LIMIT = 20_000
_SAFE_URL = re.compile(r"\Ahttps?://[^\s\"'<>]+\Z", flags=re.IGNORECASE)
_REASONS = {
    "completed": "closed as completed",
    "not_planned": "closed as not planned",
    "duplicate": "closed as a duplicate",
}


def esc(value: str) -> str:
    """Inert HTML for any text from GitHub (quotes included, so it is safe inside attributes too)."""
    return html.escape(text.clean(value), quote=True)


def link(url: str, label: str) -> str:
    """``<a>`` for a plain http(s) URL; anything else is shown as escaped text only."""
    if _SAFE_URL.match(url.strip()):
        return f'<a href="{esc(url.strip())}">{esc(label)}</a>'
    return esc(label)


def note(key: str, *paragraphs: str) -> str:
    """A FreeScout note body: the hidden key, then one ``<p>`` per paragraph (already HTML)."""
    return notice_marker(key) + "".join(f"<p>{p}</p>" for p in paragraphs if p)


def _issue_link(issue: IssueView) -> str:
    flat = re.sub(r"\s+", " ", issue.title).strip()[: text.GITHUB_TITLE_LIMIT]
    title = f" “{esc(flat)}”" if flat else ""
    return link(issue.html_url, issue.ref) + title


def _by(login: str) -> str:
    return f" by @{esc(login)}" if login else ""


def closed_notice(key: str, issue: IssueView) -> str:
    """ "acme/app#412 was closed as completed by @dev", with the closing commit or pull request if known."""
    how = _REASONS.get(issue.state_reason, "closed")
    lines = [f"GitHub issue {_issue_link(issue)} was {how}{_by(issue.closed_by)}."]
    if issue.closer is not None:
        what = "pull request" if issue.closer.kind == "pull_request" else "commit"
        lines.append(f"Closed by {what} {link(issue.closer.url, issue.closer.label)}.")
    if issue.state_reason in ("", "completed"):
        lines.append("Let the customer know once the fix has reached them.")
    return note(key, *lines)


def reopened_notice(key: str, issue: IssueView) -> str:
    return note(key, f"GitHub issue {_issue_link(issue)} was reopened: the work is not done after all.")


def _quoted(body: str) -> str:
    cut = body if len(body) <= NOTE_TEXT_LIMIT else body[:NOTE_TEXT_LIMIT] + "\n… [truncated]"
    return "<br>".join(esc(line) for line in cut.split("\n"))


def comment_notice(key: str, issue: IssueView, comment: IssueComment, message: str) -> str:
    """A ``/support`` comment as an internal note: the text verbatim but inert, with a link to it."""
    head = (
        f"@{esc(comment.author_login or 'someone')} wrote to support on GitHub issue {_issue_link(issue)} "
        f"({link(comment.html_url, 'comment')}):"
    )
    return note(key, head) + f"<blockquote><p>{_quoted(message)}</p></blockquote>"


def link_record_body(record: LinkRecord, ticket_number: int) -> str:
    """The comment that records a link (or unlink) on the issue; the human line is for engineering."""
    marker = link_record_marker(record.kind, record.conversation_id, record.thread_id)
    if record.kind == "link":
        return f"{marker}\nFreeScout ticket #{int(ticket_number)} now waits on this issue."
    return f"{marker}\nFreeScout ticket #{int(ticket_number)} no longer waits on this issue."
