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

from bridge.freescout_api import FreeScoutAPI, make_client
from bridge.github_api import GitHubIssues, make_github
from bridge.github_gate import WriteGate
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
    client = make_client(settings.freescout_url, settings.freescout_api_key.reveal())
    gh: Github | None = None
    try:
        freescout = RecordingFreeScoutAPI(client)
        gate = WriteGate(
            settings.config.github_write_spacing_seconds,
            settings.config.github_content_per_minute,
            settings.config.github_content_per_hour,
        )
        gh = make_github(settings.github_auth, settings.github_api_url)
        github = GitHubIssues(gh, settings.github_repository, gate)
        mailboxes = MailboxDirectory(freescout, settings.config.mailboxes)
        linker = Linker(settings, freescout, github, mailboxes, KeyedLocks())
        yield CliServices(settings, freescout, github, mailboxes, linker)
    finally:
        await client.aclose()
        if gh is not None:
            gh.close()
