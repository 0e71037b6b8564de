"""What the bridge writes: the issue, the FreeScout note and the closing comment. Pure functions."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime

from bridge import text
from bridge.model import Conversation
from bridge.vocab import LABEL_LINKED, closed_marker, issue_marker


@dataclass(frozen=True)
class IssueDraft:
    title: str
    body: str
    labels: tuple[str, ...]


def conversation_url(freescout_url: str, conversation_id: int) -> str:
    return f"{freescout_url}/conversation/{int(conversation_id)}"


def issue_labels(conv: Conversation, tag_labels: dict[str, str] | None) -> tuple[str, ...]:
    """``freescout-linked`` first, then the labels mapped from the conversation's tags, without repeats."""
    labels = [LABEL_LINKED]
    for tag in conv.tags or ():
        mapped = (tag_labels or {}).get(tag)
        if mapped and mapped not in labels:
            labels.append(mapped)
    return tuple(labels)


def issue_draft(
    conv: Conversation,
    *,
    freescout_url: str,
    mailbox_name: str,
    tag_labels: dict[str, str],
    include_customer_email: bool,
) -> IssueDraft:
    """The issue for a conversation: backlink, ticket facts, the first customer message as inert text."""
    link = conversation_url(freescout_url, conv.id)
    facts = [
        f"**FreeScout ticket:** [#{conv.number}]({link})",
        f"**Mailbox:** {text.inline(mailbox_name, 200)}",
        "**Tags:** " + (", ".join(f"`{text.inline(t, 100)}`" for t in conv.tags or ()) or "none"),
    ]
    if include_customer_email and conv.customer_email:
        facts.append(f"**Customer:** `{text.clean(conv.customer_email)[:320].replace('`', '')}`")
    head = "\n".join(
        [issue_marker(conv.id), "", *(f"- {f}" for f in facts), "", "### First customer message", ""]
    )
    tail = "\n\n_Opened by freescout-github-bridge. Reply in FreeScout to reach the customer._"
    first = conv.first_customer_thread
    message = text.html_to_text(first.body) if first else ""
    budget = text.GITHUB_BODY_LIMIT - len(head) - len(tail)
    body = head + text.fenced(message or "(no message text)", budget) + tail
    return IssueDraft(title=text.title(conv.subject), body=body, labels=issue_labels(conv, tag_labels))


def link_note(issue_url: str, issue_ref: str) -> str:
    """The internal FreeScout note (HTML: FreeScout does not render plain newlines)."""
    url = html.escape(issue_url, quote=True)
    return f'<p>Linked GitHub issue: <a href="{url}">{html.escape(issue_ref)}</a></p>'


def closed_comment(conv: Conversation, freescout_url: str, now: datetime | None = None) -> str:
    """The one comment per closure; the marker makes a repeat of the same closure a no-op."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    link = conversation_url(freescout_url, conv.id)
    return (
        f"{closed_marker(conv.id, conv.closure_key)}\n"
        f"FreeScout ticket [#{conv.number}]({link}) resolved ({when}).\n\n"
        "_This issue stays open; engineering decides when it is done._"
    )
