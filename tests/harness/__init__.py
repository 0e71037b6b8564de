"""The one test harness: the simulators, the bridge's three programs, and a deployment tying them together.

- ``sims``: the FreeScout and GitHub simulators on loopback ports, in threads, and their control planes.
- ``processes``: the web process as a real (restartable, killable) uvicorn process, the environments that
  point the web process, ``freescout-bridge`` and ``freescout-sync`` at the simulators, and runners for
  the two command-line programs.
- ``deployment``: both simulators plus that environment, the way the end-to-end, fault, CLI and Actions
  suites drive them.

In-process doubles of the upstream clients (no HTTP at all) are in ``tests/doubles.py``.
"""

from tests.harness.deployment import EVENTS, Deployment, open_deployment, wait_for
from tests.harness.processes import (
    NOWHERE,
    ROOT,
    TICKET_CUSTOMER,
    Bridge,
    deployment_env,
    free_port,
    procfile_web_args,
    run_cli,
    run_sync,
    workflow_env,
)
from tests.harness.sims import (
    BOT_USER_ID,
    FAST_RETRIES,
    FS_KEY,
    FS_SECRET,
    GH_TOKEN,
    REPO,
    FreeScout,
    GitHub,
    running_freescout,
    running_github,
    running_simulators,
)

__all__ = [
    "BOT_USER_ID",
    "EVENTS",
    "FAST_RETRIES",
    "FS_KEY",
    "FS_SECRET",
    "GH_TOKEN",
    "NOWHERE",
    "REPO",
    "ROOT",
    "TICKET_CUSTOMER",
    "Bridge",
    "Deployment",
    "FreeScout",
    "GitHub",
    "deployment_env",
    "free_port",
    "open_deployment",
    "procfile_web_args",
    "run_cli",
    "run_sync",
    "running_freescout",
    "running_github",
    "running_simulators",
    "wait_for",
    "workflow_env",
]
