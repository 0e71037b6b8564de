"""The clients of one CLI command, built the way the app's lifespan builds them, and closed at the end.

``services(settings)`` yields the same FreeScout client, GitHub wrapper, write gate, mailbox directory and
linker the web process uses, so ``sync`` and ``sweep`` run exactly the code path a webhook runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from github import Github

from bridge import wiring
from bridge.freescout_api import FreeScoutAPI
from bridge.github_api import GitHubIssues
from bridge.linker import Linker
from bridge.locks import KeyedLocks
from bridge.mailboxes import MailboxDirectory
from bridge.model import Conversation
from bridge.settings import Settings


class RecordingFreeScoutAPI(FreeScoutAPI):
    """The FreeScout API that remembers the fresh state it read, so ``sync`` can explain the decision."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(client)
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


@asynccontextmanager
async def services(settings: Settings) -> AsyncIterator[CliServices]:
    """Clients for one command; both HTTP clients are closed however the command ends."""
    client = wiring.freescout_client(settings)
    gh: Github | None = None
    try:
        freescout = RecordingFreeScoutAPI(client)
        gh = wiring.github_client(settings)
        github = GitHubIssues(gh, settings.github_repository, wiring.write_gate(settings))
        mailboxes = MailboxDirectory(freescout, settings.config.mailboxes)
        linker = Linker(settings, freescout, github, mailboxes, KeyedLocks())
        yield CliServices(settings, freescout, github, mailboxes, linker)
    finally:
        await client.aclose()
        if gh is not None:
            gh.close()
