"""200 tagged tickets, the bridge killed with SIGKILL at 10 random moments, 3 runs: duplicates and unlinked.

    .venv/bin/python -m bench.faults.kill_run                    # 3 runs, seeds printed
    .venv/bin/python -m bench.faults.kill_run --seed 7 --runs 1

Each run: fresh simulators and a real bridge process (``uvicorn bridge.app:app_from_env --factory``) with the
scheduled sweep on. A driver thread files the tickets through the FreeScout simulator (real signed
webhooks) at a steady pace; the main thread kills the bridge with SIGKILL at seeded random moments and
restarts it at once on the same port. Then the run waits until FreeScout's retries are spent (compressed
schedule) and two more sweep passes have run, and counts issues per conversation marker (duplicates) and
conversations without the field (unlinked).

Compression, said plainly: FreeScout's retry schedule (1, 2, 4, ... 16 minutes) runs at 0.5 s per minute;
the web process's sweep every 2.5 s (production: 300 s). GitHub writes are spaced 0.02 s (production 1 s)
and both the bridge's content budget and the GitHub simulator's secondary limits are lifted, so 200 links
fit in seconds; the burst bench (``bench.faults.burst``) measures the limits with production settings.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.faults.common import (
    Tickets,
    audit,
    deliveries_summary,
    distribution,
    killed_between,
    link_times,
    machine,
    save,
    sweeps_logged,
    write_times,
)
from sandbox.github_sim import GitHubSimConfig
from tests.faults.rig import bridge_config, open_rig
from tests.harness import Deployment, wait_for

MINUTE = 0.5  # one FreeScout scheduler minute, compressed
RETRIES = tuple(m * MINUTE for m in (1, 2, 4, 6, 8, 10, 12, 14, 16))
SWEEP_EVERY = "2.5"
CONFIG = bridge_config(spacing=0.02, per_minute=1_000_000, per_hour=1_000_000)
UNLIMITED_GITHUB = GitHubSimConfig(content_per_minute=1_000_000, content_per_hour=1_000_000)


def one_run(seed: int, tickets: int, kills: int, pace: float) -> dict[str, Any]:
    rng = random.Random(seed)
    span = tickets * pace
    kill_at = sorted(rng.uniform(0.5, span + 3.0) for _ in range(kills))
    filed = Tickets()
    with (
        tempfile.TemporaryDirectory(prefix="kill-run-") as tmp,
        open_rig(Path(tmp), retry_delays=RETRIES, config=CONFIG, gh_config=UNLIMITED_GITHUB) as rig,
    ):
        bridge = rig.start_bridge(SWEEP_INTERVAL_SECONDS=SWEEP_EVERY)
        started = time.monotonic()

        def drive() -> None:
            for n in range(tickets):
                filed.file(rig, f"kill-run seed {seed} ticket {n}")
                time.sleep(max(0.0, started + (n + 1) * pace - time.monotonic()))

        driver = threading.Thread(target=drive, name="tickets")
        driver.start()
        killed, killed_epoch = [], []
        for at in kill_at:
            time.sleep(max(0.0, started + at - time.monotonic()))
            bridge.kill9()
            killed.append(round(time.monotonic() - started, 2))
            killed_epoch.append(time.time())
            bridge.start()
        driver.join()
        rig.fs.wait_idle(timeout=300)  # every event delivered or dropped after its 10 attempts
        after_idle = sweeps_logged(rig)
        wait_for(lambda: sweeps_logged(rig) >= after_idle + 2, timeout=60, what="two more sweep passes")
        rig.settle()
        result = _result(rig, filed, seed, kill_at, killed)
        result["half_done_at_a_kill"] = killed_between(write_times(rig), killed_epoch)
        result["duration_s"] = round(time.monotonic() - started, 1)
    return result


def _result(
    rig: Deployment, filed: Tickets, seed: int, kill_at: list[float], killed: list[float]
) -> dict[str, Any]:
    times = link_times(rig, filed)
    return {
        "seed": seed,
        "kill_at_s": [round(k, 2) for k in kill_at],
        "killed_at_s": killed,
        **audit(rig, filed.ids()),
        "deliveries": deliveries_summary(rig),
        "sweep_passes": sweeps_logged(rig),
        "github_violations": rig.gh.violations(),
        "time_to_link_s": distribution(list(times.values())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pace", type=float, default=0.1, help="seconds between two tickets")
    parser.add_argument("--seed", type=int, default=None, help="first seed (default: from the clock)")
    args = parser.parse_args()
    first = args.seed if args.seed is not None else int(time.time()) % 100_000
    runs = []
    for k in range(args.runs):
        seed = first + k
        print(f"run {k + 1}/{args.runs}: seed {seed}", flush=True)
        run = one_run(seed, args.tickets, args.kills, args.pace)
        keys = ("duplicate_issues", "unlinked", "linked_without_note", "half_done_at_a_kill")
        summary = {key: run[key] for key in keys}
        print(json.dumps(summary), flush=True)
        runs.append(run)
    result = {
        "bench": "kill_run",
        "command": "python -m bench.faults.kill_run "
        + " ".join(
            f"--{k} {v}"
            for k, v in (
                ("tickets", args.tickets),
                ("kills", args.kills),
                ("runs", args.runs),
                ("pace", args.pace),
                ("seed", first),
            )
        ),
        "compression": {
            "freescout_retry_delays_s": list(RETRIES),
            "sweep_interval_s": float(SWEEP_EVERY),
            "github_write_spacing_s": 0.02,
            "content_budgets": "lifted (bridge and GitHub simulator)",
        },
        "machine": machine(),
        "runs": runs,
        "totals": {
            "tickets": sum(r["tickets"] for r in runs),
            "kills": sum(len(r["killed_at_s"]) for r in runs),
            "duplicate_issues": sum(r["duplicate_issues"] for r in runs),
            "unlinked": sum(len(r["unlinked"]) for r in runs),
            "linked_without_note": sum(len(r["linked_without_note"]) for r in runs),
            "more_than_one_note": sum(len(r["more_than_one_note"]) for r in runs),
            "github_violations": sum(r["github_violations"] for r in runs),
            "deliveries_cut_mid_request": sum(r["deliveries"]["cut_mid_request"] for r in runs),
            "half_done_between_create_and_field": sum(
                r["half_done_at_a_kill"]["between_create_and_field"] for r in runs
            ),
            "half_done_between_field_and_note": sum(
                r["half_done_at_a_kill"]["between_field_and_note"] for r in runs
            ),
        },
    }
    print(json.dumps(result["totals"]))
    print(f"saved {save('kill_run', result)}")


if __name__ == "__main__":
    main()
