"""Fixtures for the local simulators: each runs on a real loopback port in a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox import freescout_sim, github_sim
from sandbox.serve import ServerThread
from tests.harness import FreeScout, GitHub, running_freescout, running_github

API_KEY = freescout_sim.FreeScoutSimConfig.api_key
FAST_RETRIES = (0.02,) * 9


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A tiny webhook receiver: answers with scripted statuses (then 200) and records.

    ``hold`` makes the next request wait until ``release`` is set, so tests can change
    state while a delivery is in flight without depending on timing.
    """

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    hold: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    sleep: float = 0.0

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.received.append(Received(dict(request.headers), await request.body()))
            status = self.statuses.pop(0) if self.statuses else 200
            self.arrived.set()
            if self.hold:
                self.hold = False
                await asyncio.to_thread(self.release.wait, 10)
            if self.sleep:
                delay, self.sleep = self.sleep, 0.0
                await asyncio.sleep(delay)
            return Response(status_code=status)

        return Starlette(routes=[Route("/hook", hook, methods=["POST", "GET"])])


@pytest.fixture
def fs_config() -> freescout_sim.FreeScoutSimConfig:
    return freescout_sim.FreeScoutSimConfig(retry_delays=FAST_RETRIES, delivery_timeout=5.0)


@pytest.fixture
def freescout(fs_config: freescout_sim.FreeScoutSimConfig) -> Iterator[FreeScout]:
    with running_freescout(fs_config) as sim:
        yield sim


@pytest.fixture
def fs(freescout: FreeScout) -> Iterator[httpx.Client]:
    """A client speaking the FreeScout API the way docs/upstream/freescout.md §4 says to."""
    headers = {"X-FreeScout-API-Key": API_KEY, "Accept": "application/json"}
    with httpx.Client(base_url=freescout.url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def fs_control(freescout: FreeScout) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=freescout.url, timeout=15) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recv = Receiver()
    with ServerThread(recv.app()) as server:
        recv.url = f"{server.url}/hook"
        yield recv
        recv.release.set()


@pytest.fixture
def gh_config() -> github_sim.GitHubSimConfig:
    return github_sim.GitHubSimConfig()


@pytest.fixture
def github(gh_config: github_sim.GitHubSimConfig) -> Iterator[GitHub]:
    with running_github(gh_config) as sim:
        yield sim


@pytest.fixture
def gh(github: GitHub, gh_config: github_sim.GitHubSimConfig) -> Iterator[Github]:
    """PyGithub 2.10 as the service builds it, minus throttling and retries."""
    client = Github(
        auth=Auth.Token(gh_config.token),
        base_url=github.url,
        lazy=True,
        seconds_between_requests=None,
        seconds_between_writes=None,
        retry=None,
    )
    yield client
    client.close()


@pytest.fixture
def gh_raw(github: GitHub, gh_config: github_sim.GitHubSimConfig) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"token {gh_config.token}", "Accept": "application/vnd.github+json"}
    with httpx.Client(base_url=github.url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def gh_control(github: GitHub) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=github.url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def app_private_key() -> str:
    """A throwaway RSA key for GitHub App JWTs (the simulator does not verify signatures)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode("ascii")
