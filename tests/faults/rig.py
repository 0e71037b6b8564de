"""What the fault, kill and burst tests and benches add to the harness: their bridge config and a storm.

The deployment itself (the real bridge between the two simulators, ``settle``, issues per conversation
marker, closing comments, GitHub's ``violations``) is ``tests/harness``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from sandbox.freescout_state import FreeScoutSimConfig
from sandbox.github_sim import GitHubSimConfig
from tests.harness import FAST_RETRIES, Deployment, open_deployment


def bridge_config(
    *,
    spacing: float = 0.2,
    unsure: float = 30.0,
    fs_timeout: float = 5.0,
    gh_timeout: int = 5,
    per_minute: int = 60,
    per_hour: int = 400,
) -> str:
    """The bridge's TOML for these runs (every other key keeps its default).

    Production spaces GitHub writes 1 s apart; the tests use 0.2 s, which keeps them short and still
    serialises writes. A create, comment or note whose outcome is unknown is only looked for (not
    repeated) for ``unsure_write_seconds`` (30 s in production).
    """
    return (
        f"[github]\nwrite_spacing_seconds = {spacing}\nunsure_write_seconds = {unsure}\n"
        f"content_per_minute = {per_minute}\ncontent_per_hour = {per_hour}\n\n"
        f"[limits]\nfreescout_timeout_seconds = {fs_timeout}\ngithub_timeout_seconds = {gh_timeout}\n"
    )


@contextmanager
def open_rig(
    tmp: Path,
    *,
    retry_delays: tuple[float, ...] = FAST_RETRIES,
    config: str | None = None,
    gh_config: GitHubSimConfig | None = None,
    validate: bool = True,
) -> Iterator[Deployment]:
    """Fresh simulators and a deployment with ``config`` (default ``bridge_config()``); FreeScout retries
    on ``retry_delays``. With ``validate``, GitHub traffic is checked against its REST description."""
    with open_deployment(
        tmp,
        fs_config=FreeScoutSimConfig(retry_delays=retry_delays),
        gh_config=gh_config,
        config=config if config is not None else bridge_config(),
        check_traffic=validate,
    ) as deployment:
        yield deployment


async def send_copies(url: str, raw: bytes, headers: dict[str, str], copies: int) -> list[int]:
    """``copies`` posts of the same signed bytes, all in flight together, each on a new connection.

    (A fresh client per call: reusing idle keep-alive connections across calls races uvicorn closing
    them, a client artefact that has nothing to do with the bridge's answer.)
    """
    limits = httpx.Limits(max_connections=copies, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        answers = await asyncio.gather(
            *(client.post(url, content=raw, headers=headers) for _ in range(copies))
        )
    return [a.status_code for a in answers]
