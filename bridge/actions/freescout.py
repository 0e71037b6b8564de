"""Direction B's FreeScout side: resolve the ops mailbox and its field, check the bot, find earlier tickets.

Every lookup that can only fail because a setting is wrong raises ``Misconfigured`` naming the secret or
variable to fix, so the step's ``::error::`` tells the user exactly what to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.actions.config import ActionsConfig
from bridge.actions.decide import IssueState, matching_ticket
from bridge.actions.render import Problem, subject, ticket_html
from bridge.errors import PermanentUpstreamError
from bridge.freescout_api import FreeScoutAPI, ThreadType
from bridge.model import Conversation
from bridge.vocab import FIELD_GITHUB_ISSUE_URL, TAG_FROM_GITHUB

#: Every status, asked one by one: a comma list only works in module 1.0.8x (docs/upstream/freescout.md §4).
STATUSES = ("active", "pending", "closed", "spam")
#: A ticket cannot be older than its issue; this margin absorbs clock skew between the two services.
LOOKBACK = timedelta(days=1)


class Misconfigured(Exception):
    """FreeScout answered, but not as configured: ``problem`` names the variable to fix."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(variable, message)


@dataclass(frozen=True)
class OpsMailbox:
    id: int
    name: str
    field_id: int  # this mailbox's own copy of github_issue_url


def created_since(created_at: str) -> str | None:
    """``createdSince`` for the ticket search: a bit before the issue was opened."""
    try:
        created = datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return (created - LOOKBACK).strftime("%Y-%m-%dT%H:%M:%SZ")


def ticket_payload(
    cfg: ActionsConfig, issue: IssueState, mailbox: OpsMailbox, label: str, sender: str
) -> dict[str, Any]:
    """``POST /api/conversations``: imported (no email), one bot note, the issue URL set at creation."""
    note = ticket_html(issue, cfg.repository, label, sender)
    return {
        "type": "email",
        "mailboxId": mailbox.id,
        "subject": subject(issue.title),
        "customer": {"email": cfg.customer_email},
        "threads": [{"type": ThreadType.NOTE.value, "user": cfg.bot_user_id, "text": note}],
        "status": "active",
        "imported": True,
        "customFields": [{"id": mailbox.field_id, "value": issue.html_url}],
    }


class Desk:
    """The FreeScout reads Direction B makes, with errors that name the setting to fix."""

    def __init__(self, api: FreeScoutAPI, cfg: ActionsConfig) -> None:
        self.api = api
        self._cfg = cfg

    async def ops_mailbox(self) -> OpsMailbox:
        """The configured mailbox (by id or address) and the id of its ``github_issue_url`` field."""
        ref = self._cfg.ops_mailbox
        for box in await self.api.list_mailboxes():
            box_id, email = box.get("id"), str(box.get("email") or "").lower()
            if isinstance(box_id, int) and (box_id == ref or email == ref):
                name = str(box.get("name") or email)
                return OpsMailbox(box_id, name, await self._field_id(box_id, name))
        kind = "id" if isinstance(ref, int) else "address"
        raise Misconfigured(
            "FREESCOUT_OPS_MAILBOX",
            f"no FreeScout mailbox has the {kind} {ref}; set FREESCOUT_OPS_MAILBOX to the ops mailbox's "
            "email address or numeric id",
        )

    async def _field_id(self, mailbox_id: int, mailbox_name: str) -> int:
        wanted = FIELD_GITHUB_ISSUE_URL.lower()
        for item in await self.api.mailbox_custom_fields(mailbox_id):
            if str(item.get("name") or "").strip().lower() == wanted and isinstance(item.get("id"), int):
                return int(item["id"])
        raise Misconfigured(
            "FREESCOUT_OPS_MAILBOX",
            f"the ops mailbox {mailbox_name} (id {mailbox_id}) has no custom field named "
            f"{FIELD_GITHUB_ISSUE_URL}; create it (Manage → Custom Fields, type single line) or point "
            "FREESCOUT_OPS_MAILBOX at the mailbox that has it",
        )

    async def check_bot(self) -> None:
        """Notes need an existing user; a 404 here is the clearest place to say which setting is wrong."""
        try:
            await self.api.get_user(self._cfg.bot_user_id)
        except PermanentUpstreamError as exc:
            if exc.status != 404:
                raise
            raise Misconfigured(
                "FREESCOUT_BOT_USER_ID",
                f"FreeScout has no user with id {self._cfg.bot_user_id}; set FREESCOUT_BOT_USER_ID to the "
                "bot user's id (Manage → Users, the number in the user's URL)",
            ) from exc

    async def find_ticket(self, mailbox_id: int, issue: IssueState) -> Conversation | None:
        """A ticket filed earlier for this issue, found by ``github_issue_url``.

        Narrowed first by the ticket customer (always set at creation, even if tagging never happened),
        then by the ``_from_github`` tag (in case the customer address setting changed since).
        """
        base: dict[str, Any] = {"mailboxId": mailbox_id, "state": "published", "sortField": "createdAt"}
        since = created_since(issue.created_at)
        if since:
            base["createdSince"] = since
        for narrow in ({"customerEmail": self._cfg.customer_email}, {"tag": TAG_FROM_GITHUB}):
            for status in STATUSES:
                found = matching_ticket(
                    [c async for c in self.api.list_conversations(**base, **narrow, status=status)],
                    issue.html_url,
                )
                if found is not None:
                    return found
        return None

    async def linked_ticket(self, conversation_id: int) -> Conversation:
        """The ticket an issue links to, with fresh threads and tags."""
        try:
            return await self.api.get_conversation(conversation_id)
        except PermanentUpstreamError as exc:
            if exc.status != 404:
                raise
            raise Misconfigured(
                "FREESCOUT_URL",
                f"the issue links FreeScout ticket {conversation_id}, which FreeScout at FREESCOUT_URL does "
                "not have; check FREESCOUT_URL",
            ) from exc
