"""The web process's clients live in its lifespan: opened by ``wiring.open_upstreams`` (as the CLI opens
them), handed to the endpoints as lifespan state, and all closed at shutdown, GitHub's included."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import pytest

from bridge.app import create_app
from bridge.settings import load_settings
from tests.harness import Deployment


def github_connection(services: Any) -> object:
    """PyGithub's open connection, or ``None`` once closed (PyGithub exposes no public flag for it)."""
    return services.github._gh.requester._Requester__connection


@pytest.mark.anyio
async def test_the_lifespan_state_carries_the_clients_and_shutdown_closes_them(
    deployment: Deployment,
) -> None:
    app = create_app(load_settings(deployment.env))
    async with app.router.lifespan_context(app) as state:
        assert state is not None and set(state) == {"services", "sweeps"}
        services = state["services"]
        await services.freescout.probe()
        await anyio.to_thread.run_sync(services.github.probe)
        assert github_connection(services) is not None
        assert not services.freescout._client.is_closed
    assert services.freescout._client.is_closed
    assert github_connection(services) is None
