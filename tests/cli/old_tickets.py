"""A help desk with history: tagged conversations imported with an old ``createdAt`` through the real API."""

from __future__ import annotations

from tests.cli.conftest import mailbox_config
from tests.harness import Deployment

LINK_SINCE = "2025-01-01"


def old_conversation(
    deployment: Deployment, mailbox_id: int, tags: list[str], created_at: str, subject: str = "Old CSV bug"
) -> int:
    """``POST /api/conversations`` with ``imported: true`` keeps ``createdAt`` (as FreeScout does on import);
    then the agent's tags."""
    customer = {"email": "dana@example.com", "firstName": "Dana"}
    created = deployment.fs.api(
        "POST",
        "/conversations",
        {
            "type": "email",
            "mailboxId": mailbox_id,
            "subject": subject,
            "customer": customer,
            "imported": True,
            "createdAt": created_at,
            "threads": [{"type": "customer", "text": "Export ends with error 500.", "customer": customer}],
        },
    )
    cid = int(created["id"])
    deployment.fs.api("PUT", f"/conversations/{cid}/tags", {"tags": tags})
    return cid


def configure_cutoff(deployment: Deployment, extra: str = f'link_since = "{LINK_SINCE}"') -> None:
    """The test config (both mailboxes, no write spacing) plus a cut-off line under ``[autolink]``."""
    toml = mailbox_config()
    head, sep, rest = toml.partition("\n\n")
    deployment.configure(f"{head}\n{extra}{sep}{rest}")
