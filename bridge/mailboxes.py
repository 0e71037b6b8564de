"""Mailbox names and ids, resolved once through ``GET /api/mailboxes`` and cached.

The config may name mailboxes by email; the rules need ids. The issue body shows the mailbox name. Both
come from one cached list, so a linked ticket costs no mailbox call once the cache is warm.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bridge.freescout_api import FreeScoutAPI
from bridge.settings import MailboxRef


@dataclass(frozen=True)
class Mailbox:
    id: int
    name: str
    email: str


class MailboxDirectory:
    def __init__(self, api: FreeScoutAPI, configured: tuple[MailboxRef, ...]) -> None:
        self._api = api
        self._configured = configured
        self._by_id: dict[int, Mailbox] | None = None
        self._lock = asyncio.Lock()
        self.unknown: tuple[MailboxRef, ...] = ()
        self._ids = self._resolve()

    @property
    def loaded(self) -> bool:
        return self._by_id is not None

    async def load(self, *, force: bool = False) -> None:
        async with self._lock:
            if self._by_id is not None and not force:
                return
            items = await self._api.list_mailboxes()
            by_id: dict[int, Mailbox] = {}
            for item in items:
                if isinstance(item.get("id"), int):
                    by_id[item["id"]] = Mailbox(
                        item["id"], str(item.get("name") or ""), str(item.get("email") or "")
                    )
            self._by_id = by_id
            emails = {m.email.lower() for m in by_id.values()}
            self.unknown = tuple(
                m for m in self._configured if (m not in by_id if isinstance(m, int) else m not in emails)
            )
            self._ids = self._resolve()

    def configured_ids(self) -> frozenset[int] | None:
        """Ids of the configured mailboxes; ``None`` when the config names none (every mailbox).

        Resolved when the directory is built and again on each load, not on every delivery.
        """
        return self._ids

    def _resolve(self) -> frozenset[int] | None:
        if not self._configured:
            return None
        ids = {m for m in self._configured if isinstance(m, int)}
        if self._by_id is not None:
            by_email = {m.email.lower(): m.id for m in self._by_id.values()}
            ids |= {by_email[m] for m in self._configured if isinstance(m, str) and m in by_email}
        return frozenset(ids)

    def needs_lookup(self) -> bool:
        """Emails in the config cannot be matched before the list is loaded."""
        return not self.loaded and any(isinstance(m, str) for m in self._configured)

    def name(self, mailbox_id: int) -> str:
        found = (self._by_id or {}).get(mailbox_id)
        return found.name if found and found.name else f"mailbox {mailbox_id}"
