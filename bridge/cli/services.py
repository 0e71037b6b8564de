"""The clients of one CLI command: ``wiring.open_upstreams``, as the web process's lifespan opens them.

``services(settings)`` yields the same FreeScout client, GitHub wrapper, write gate, mailbox directory and
linker the web process uses, so ``sync`` and ``sweep --local`` run exactly the code path a webhook runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from bridge import wiring
from bridge.freescout_api import FreeScoutAPI
from bridge.github_api import GitHubIssues
from bridge.linker import Linker
from bridge.mailboxes import MailboxDirectory
from bridge.metrics import Metrics
from bridge.model import Conversation
from bridge.settings import Settings


class RecordingFreeScoutAPI(FreeScoutAPI):
    """The FreeScout API that remembers the fresh state it read, so ``sync`` can explain the decision."""

    def __init__(self, client: httpx.AsyncClient, metrics: Metrics | None = None) -> None:
        super().__init__(client, metrics)
        self.seen: dict[int, Conversation] = {}

    async def get_conversation(self, conversation_id: int) -> Conversation:
        conv = await super().get_conversation(conversation_id)
        self.seen[conv.id] = conv
        return conv


@dataclass
class CliServices:
    settings: Settings
    freescout: RecordingFreeScoutAPI
    github: GitHubIssues
    mailboxes: MailboxDirectory
    linker: Linker
    upstreams: wiring.Upstreams


@asynccontextmanager
async def services(settings: Settings) -> AsyncIterator[CliServices]:
    """Clients for one command; both HTTP clients are closed however the command ends."""
    async with wiring.open_upstreams(settings, freescout_api=RecordingFreeScoutAPI) as up:
        assert isinstance(up.freescout, RecordingFreeScoutAPI)
        yield CliServices(settings, up.freescout, up.github, up.mailboxes, up.linker, up)
