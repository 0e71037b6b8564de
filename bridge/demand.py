"""Demand, visible to engineering: how many tickets and customers wait on an issue. Pure.

One bridge-owned comment per issue, edited in place (never the human-edited body), plus an optional
label once enough tickets wait. Customer emails stay out unless ``include_customer_email``: the comment
shows counts and email domains, and every customer-written value is made inert for GitHub Markdown.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bridge import text
from bridge.github_model import IssueComment, IssueView
from bridge.model import Conversation
from bridge.vocab import demand_marker, is_demand_comment, issue_number_from_url

#: Ticket statuses that still wait on engineering.
WAITING_STATUSES = frozenset({"active", "pending"})
_DOMAIN = re.compile(r"\A[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\Z")


@dataclass(frozen=True)
class Demand:
    """Linked tickets that still point at the issue: ``waiting`` (active/pending) and ``closed`` ones."""

    waiting: int
    customers: int
    closed: int
    domains: tuple[tuple[str, int], ...]  # (domain, waiting tickets), most first
    emails: tuple[str, ...]  # waiting customers' addresses, sorted; shown only when allowed


def _points_here(ticket: Conversation, issue: IssueView) -> bool:
    return (
        ticket.state == "published"
        and ticket.status != "spam"
        and issue_number_from_url(ticket.github_issue_url, issue.repository) == issue.number
    )


def _domain(email: str) -> str:
    domain = email.rpartition("@")[2].strip().lower()
    return domain if "@" in email and _DOMAIN.match(domain) else ""


def count_demand(tickets: Iterable[Conversation], issue: IssueView) -> Demand:
    """Count the linked tickets (fetched fresh) that still point at ``issue``; customers by email."""
    here = [t for t in tickets if _points_here(t, issue)]
    waiting = [t for t in here if t.status in WAITING_STATUSES]
    customers = {t.customer_email.strip().lower() or f"#{t.id}" for t in waiting}
    domains = Counter(d for d in (_domain(t.customer_email) for t in waiting) if d)
    emails = sorted({t.customer_email.strip().lower() for t in waiting if _domain(t.customer_email)})
    return Demand(
        waiting=len(waiting),
        customers=len(customers),
        closed=len(here) - len(waiting),
        domains=tuple(sorted(domains.items(), key=lambda item: (-item[1], item[0]))),
        emails=tuple(emails),
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_demand(demand: Demand, *, include_customer_email: bool = False) -> str:
    """The demand comment body (Markdown), starting with its hidden marker."""
    lines = [
        demand_marker(),
        f"**{_plural(demand.waiting, 'FreeScout ticket')} from {_plural(demand.customers, 'customer')} "
        f"{'waits' if demand.waiting == 1 else 'wait'} on this issue.**",
    ]
    if demand.closed:
        lines.append(f"{_plural(demand.closed, 'more linked ticket')} closed in FreeScout.")
    if demand.domains:
        shown = ", ".join(f"`{text.inline(d, 100)}` ({n})" for d, n in demand.domains[:20])
        more = f" and {len(demand.domains) - 20} more" if len(demand.domains) > 20 else ""
        lines.append(f"Customer domains: {shown}{more}.")
    if include_customer_email and demand.emails:
        lines.append("Customers: " + ", ".join(f"`{e[:320].replace('`', '')}`" for e in demand.emails[:50]))
    lines.append(
        "_Kept current by freescout-github-bridge. Link a ticket from FreeScout with an internal note "
        "`#github link` and this issue's URL; a comment starting with `/support` reaches every waiting ticket._"
    )
    return "\n\n".join(lines)


def demand_label_wanted(demand: Demand, threshold: int) -> bool:
    """The demand label belongs on the issue (``threshold`` 0 = never)."""
    return threshold > 0 and demand.waiting >= threshold


@dataclass(frozen=True)
class DemandComment:
    """What to do with the demand comment: create it (``comment_id`` None) or edit that one."""

    comment_id: int | None
    body: str


def demand_comment_in(
    comments: Iterable[IssueComment], authors: Collection[str] | None = None
) -> IssueComment | None:
    """The bridge's demand comment, the oldest if a race left two (``authors``: the bridge's logins)."""
    trusted = {a.lower() for a in authors} if authors is not None else None
    found = [
        c
        for c in comments
        if is_demand_comment(c.body) and (trusted is None or c.author_login.lower() in trusted)
    ]
    return min(found, key=lambda c: c.id) if found else None


def plan_demand_comment(
    comments: Iterable[IssueComment], body: str, authors: Collection[str] | None = None
) -> DemandComment | None:
    """Create or edit the one demand comment; ``None`` when it already says ``body``."""
    existing = demand_comment_in(comments, authors)
    if existing is None:
        return DemandComment(None, body)
    if existing.body.strip() == body.strip():
        return None
    return DemandComment(existing.id, body)


def demand_comment_wanted(
    comments: Iterable[IssueComment], body: str, *, linked: int, authors: Collection[str] | None = None
) -> DemandComment | None:
    """``plan_demand_comment``, except that the first comment waits for a second linked ticket: an issue
    with one ticket already names it in its body, and Direction A's issues stay as quiet as before. Once
    the comment exists it is kept current whatever the count."""
    plan = plan_demand_comment(comments, body, authors)
    if plan is not None and plan.comment_id is None and linked < 2:
        return None
    return plan
