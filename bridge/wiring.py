"""The upstream clients, opened and closed in one place for the web process and the CLI alike.

``open_upstreams(settings)`` builds the FreeScout client, the GitHub client behind its write gate, the
mailbox directory and the linker over them, and closes both HTTP clients however the caller ends. The web
process holds it open for its lifespan; each CLI command for its run. One function, so ``sync`` and
``sweep --local`` run exactly the code path a webhook runs.
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
from bridge.metrics import Metrics
from bridge.settings import Settings


@dataclass(frozen=True)
class Upstreams:
    """The clients one process talks through, and the linker that uses them."""

    freescout: FreeScoutAPI
    github: GitHubIssues
    mailboxes: MailboxDirectory
    linker: Linker


def freescout_client(settings: Settings) -> httpx.AsyncClient:
    return make_client(
        settings.freescout_url, settings.freescout_api_key.reveal(), settings.config.freescout_timeout_seconds
    )


def github_client(settings: Settings) -> Github:
    return make_github(settings.github_auth, settings.github_api_url, settings.config.github_timeout_seconds)


def write_gate(settings: Settings) -> WriteGate:
    return WriteGate(
        settings.config.github_write_spacing_seconds,
        settings.config.github_content_per_minute,
        settings.config.github_content_per_hour,
    )


@asynccontextmanager
async def open_upstreams(
    settings: Settings,
    metrics: Metrics | None = None,
    *,
    github: GitHubIssues | None = None,
    client: httpx.AsyncClient | None = None,
    freescout_api: type[FreeScoutAPI] = FreeScoutAPI,
) -> AsyncIterator[Upstreams]:
    """Open the upstream clients and close them at the end. A ``github`` wrapper or FreeScout ``client``
    passed in (tests) is the caller's: it is used as it is and not closed here."""
    http = client or freescout_client(settings)
    gh: Github | None = None
    try:
        freescout = freescout_api(http, metrics)
        if github is None:
            gh = github_client(settings)
            github = GitHubIssues(gh, settings.github_repository, write_gate(settings), metrics)
        mailboxes = MailboxDirectory(freescout, settings.config.mailboxes)
        yield Upstreams(
            freescout, github, mailboxes, Linker(settings, freescout, github, mailboxes, KeyedLocks())
        )
    finally:
        if client is None:
            await http.aclose()
        if gh is not None:
            gh.close()
