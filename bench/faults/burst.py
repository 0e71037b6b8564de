"""A burst of 300 matching tickets in one minute against GitHub's content limits: duplicates, unlinked,
violations and the time-to-link distribution.

    .venv/bin/python -m bench.faults.burst [--tickets 300] [--over 60]
    .venv/bin/python -m bench.faults.burst --spacing 0.2 --per-minute 200 --label burst-past-github

By default the bridge runs with its production settings (GitHub writes 1 s apart, content budget 60 a minute and
400 an hour, client timeouts 5 s); the GitHub simulator enforces GitHub's secondary content limits (80 a
minute, 500 an hour) and counts every write sent inside a retry-after window it handed out
(``violations``). So at most 60 issues a minute get opened: the rest of the burst is answered 503 +
Retry-After, FreeScout retries, and the web process's sweep links what FreeScout gave up on.

The second form raises the bridge's own budget past GitHub's (writes 0.2 s apart, 200 a minute), so
GitHub itself pushes back with 403 + ``retry-after`` and the bridge must honour it.

Compression, said plainly: FreeScout's retry schedule (1, 2, 4, ... 16 minutes) runs at 5 s per minute
(the last retry about 6 minutes after the first attempt) and the sweep runs every 25 s (production 300 s).
GitHub's limits are not compressed: they are per real minute and hour.

Time to link is measured per ticket from the moment the FreeScout simulator accepted it (the driver's
clock) to the first successful ``PUT custom_fields`` in the simulator's request log (same clock).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.faults.common import (
    Tickets,
    audit,
    deliveries_summary,
    distribution,
    link_times,
    machine,
    save,
    sweeps_logged,
)
from sandbox.github_sim import GitHubSimConfig
from tests.faults.rig import bridge_config, open_rig
from tests.harness import Deployment, wait_for

MINUTE = 5.0  # one FreeScout scheduler minute, compressed
RETRIES = tuple(m * MINUTE for m in (1, 2, 4, 6, 8, 10, 12, 14, 16))
SWEEP_EVERY = "25"


def linked_count(rig: Deployment, ids: set[int]) -> int:
    linked = 0
    for conv in rig.fs.get("/_sim/state")["conversations"]:
        if conv["id"] in ids and any(
            f["name"] == "github_issue_url" and f["value"] for f in conv.get("customFields", [])
        ):
            linked += 1
    return linked


def delivery_reasons(rig: Deployment) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for bridge in rig.bridges:
        for line in bridge.deliveries_logged():
            key = f"{line.get('status')} {line.get('reason')}"
            reasons[key] = reasons.get(key, 0) + 1
    return reasons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--over", type=float, default=60.0, help="seconds over which the burst arrives")
    parser.add_argument("--patience", type=float, default=1800.0, help="give up after this many seconds")
    parser.add_argument("--spacing", type=float, default=1.0, help="bridge: seconds between GitHub writes")
    parser.add_argument("--per-minute", type=int, default=60, help="bridge: content budget per minute")
    parser.add_argument("--label", default="burst", help="name of the result file")
    args = parser.parse_args()
    config = bridge_config(spacing=args.spacing, per_minute=args.per_minute, per_hour=400)
    filed = Tickets()
    with (
        tempfile.TemporaryDirectory(prefix="burst-") as tmp,
        open_rig(Path(tmp), retry_delays=RETRIES, config=config, gh_config=GitHubSimConfig()) as rig,
    ):
        rig.start_bridge(SWEEP_INTERVAL_SECONDS=SWEEP_EVERY)
        started = time.monotonic()
        pace = args.over / args.tickets
        for n in range(args.tickets):
            filed.file(rig, f"burst ticket {n}")
            time.sleep(max(0.0, started + (n + 1) * pace - time.monotonic()))
        burst_s = time.monotonic() - started
        print(f"burst of {args.tickets} filed in {burst_s:.1f} s", flush=True)
        ids = set(filed.ids())
        progress = {"at": time.monotonic()}

        def done() -> bool:
            if time.monotonic() - progress["at"] >= 30:
                print(
                    f"  {linked_count(rig, ids)} linked after {time.monotonic() - started:.0f} s", flush=True
                )
                progress["at"] = time.monotonic()
            idle = rig.fs.http.post("/_sim/wait-idle", json={"timeout": 0}).status_code == 200
            return idle and linked_count(rig, ids) == len(ids)

        _wait_quietly(done, args.patience)
        passes = sweeps_logged(rig)
        wait_for(lambda: sweeps_logged(rig) > passes, timeout=120, what="one more sweep pass")
        rig.settle(timeout=120)
        times = link_times(rig, filed)
        result: dict[str, Any] = {
            "bench": "burst",
            "command": f"python -m bench.faults.burst --tickets {args.tickets} --over {args.over} "
            f"--spacing {args.spacing} --per-minute {args.per_minute} --label {args.label}",
            "machine": machine(),
            "compression": {
                "freescout_retry_delays_s": list(RETRIES),
                "sweep_interval_s": float(SWEEP_EVERY),
            },
            "bridge_config": config,
            "burst_filed_in_s": round(burst_s, 1),
            **audit(rig, ids),
            "github_stats": {
                k: v for k, v in rig.gh.get("/_sim/stats").items() if k not in ("violation_log",)
            },
            "deliveries": deliveries_summary(rig),
            "bridge_answers": delivery_reasons(rig),
            "sweep_passes": sweeps_logged(rig),
            "time_to_link_s": distribution(list(times.values())),
            "all_linked_after_s": round(max(times.values(), default=0.0), 1),
        }
    print(json.dumps({k: result[k] for k in ("duplicate_issues", "time_to_link_s", "github_stats")}))
    print(f"saved {save(args.label, result)}")


def _wait_quietly(check: Any, patience: float) -> None:
    """Like ``wait_for`` but polling every 2 s (a full state dump per poll)."""
    deadline = time.monotonic() + patience
    while not check():
        if time.monotonic() > deadline:
            print("gave up waiting; reporting the state as it is", flush=True)
            return
        time.sleep(2.0)


if __name__ == "__main__":
    main()
