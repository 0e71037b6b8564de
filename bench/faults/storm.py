"""50 identical deliveries at once, 20 trials (a fresh conversation each, one bridge process): duplicates.

    .venv/bin/python -m bench.faults.storm [--copies 50] [--trials 20]

The same logic as ``tests/faults/test_kill.py::test_fifty_identical_deliveries_at_once_link_one_issue``,
reporting numbers instead of asserting them: the exact signed bytes FreeScout would send, posted
``copies`` times concurrently on separate connections (asyncio, one client per storm).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.faults.common import audit, distribution, machine, save
from tests.faults.rig import open_rig, send_copies
from tests.harness import Deployment


async def storms(
    rig: Deployment, url: str, copies: int, trials: int
) -> tuple[list[int], list[int], list[float]]:
    ids, statuses, seconds = [], [], []
    for trial in range(trials):
        conversation_id = int(rig.fs.email(subject=f"storm {trial}", tags=["bug"])["id"])
        raw, headers = rig.signed_webhook(conversation_id)
        started = time.perf_counter()
        statuses += await send_copies(url, raw, headers, copies)
        seconds.append(time.perf_counter() - started)
        ids.append(conversation_id)
    return ids, statuses, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="storm-") as tmp, open_rig(Path(tmp)) as rig:
        bridge = rig.start_bridge(register=False)
        ids, statuses, seconds = asyncio.run(storms(rig, bridge.webhook_url(), args.copies, args.trials))
        rig.settle()
        outcomes: dict[str, int] = {}
        for line in bridge.deliveries_logged():
            outcomes[line["outcome"]] = outcomes.get(line["outcome"], 0) + 1
        result: dict[str, Any] = {
            "bench": "storm",
            "command": f"python -m bench.faults.storm --copies {args.copies} --trials {args.trials}",
            "machine": machine(),
            "deliveries_sent": len(statuses),
            "non_200": sum(1 for s in statuses if s != 200),
            "outcomes": outcomes,
            **audit(rig, ids),
            "github_violations": rig.gh.violations(),
            "storm_wall_s": distribution(seconds),
        }
    print(json.dumps({k: result[k] for k in ("deliveries_sent", "non_200", "duplicate_issues", "outcomes")}))
    print(f"saved {save('storm', result)}")


if __name__ == "__main__":
    main()
