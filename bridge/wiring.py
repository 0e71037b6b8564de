"""How the upstream clients are built from settings: one place for the web process and the CLI alike."""

from __future__ import annotations

import httpx
from github import Github

from bridge.freescout_api import make_client
from bridge.github_api import make_github
from bridge.github_gate import WriteGate
from bridge.settings import Settings


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
