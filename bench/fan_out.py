"""Speed at fan-out (issue #10 section 5): one issue linked to 50 tickets closes, through the web transport.

The real bridge runs under uvicorn; the GitHub simulator sends the signed ``issues.closed`` webhook; every
FreeScout call takes 100 ms (the simulator's ``slow`` fault on ``/api/``, every request). Measured:

- **answer**: how long the bridge took to answer GitHub's delivery (GitHub gives up at 10 s);
- **all written**: from the close until all 50 tickets hold their note and the pending ones are active
  (bar: 15 s), read from the simulator's control plane, which the latency does not slow;
- **crash run**: the same, with ``kill -9`` of the bridge once half of the notes are written; a new bridge
  process's scheduled sweep (catch-up) finishes, and every ticket is audited: notes lost, notes doubled.

Run: ``.venv/bin/python -m bench.fan_out [--tickets 50] [--latency 0.1]``. Results go to
``bench/results/fan_out-<date>.json``. Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.freescout_sim import create_app as freescout_app
from sandbox.freescout_state import FreeScoutSimConfig
from sandbox.github_sim import GitHubSimConfig
from sandbox.github_sim import create_app as github_app
from sandbox.serve import ServerThread
from tests.e2e.github_rig import SECRET, close_key, deliveries, hook, link_issue, ticket
from tests.harness import EVENTS, Bridge, FreeScout, GitHub, deployment_env

RESULTS = Path(__file__).resolve().parent / "results"
FAST_RETRIES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def _all_notes(fs: FreeScout, tickets: list[int], key: str) -> tuple[int, Counter[str]]:
    """How many tickets hold the note, and how the tickets stand (``ok`` / ``lost`` / ``doubled``)."""
    audit: Counter[str] = Counter()
    state = {c["id"]: c for c in fs.conversations()}
    for cid in tickets:
        threads = state[cid]["_embedded"]["threads"]
        count = sum(1 for t in threads if t["type"] == "note" and key in (t.get("body") or ""))
        audit["ok" if count == 1 else "lost" if count == 0 else "doubled"] += 1
        audit["active" if state[cid]["status"] == "active" else "not_active"] += 1
    return audit["ok"] + audit["doubled"], audit


def _wait_notes(fs: FreeScout, tickets: list[int], key: str, want: int, timeout: float) -> float | None:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if _all_notes(fs, tickets, key)[0] >= want:
            return time.perf_counter()
        time.sleep(0.02)
    return None


def _setup(fs: FreeScout, gh: GitHub, bridge: Bridge, count: int) -> tuple[int, list[int]]:
    fs.post("/_sim/webhooks", {"url": bridge.webhook_url(), "events": EVENTS})  # echoes are part of the load
    tickets = [ticket(fs, "pending", subject=f"Export fails {k}") for k in range(count)]
    issue = link_issue(fs, gh, tickets)
    hook(gh, bridge)
    return issue.number, tickets


def run_once(count: int, latency: float, crash: bool, work: Path) -> dict[str, Any]:
    fs_server = ServerThread(freescout_app(FreeScoutSimConfig(retry_delays=FAST_RETRIES))).start()
    gh_server = ServerThread(github_app(GitHubSimConfig())).start()
    fs, gh = FreeScout(fs_server.url), GitHub(gh_server.url)
    env = deployment_env(fs.url, gh.url, GITHUB_WEBHOOK_SECRET=SECRET, LOG_LEVEL="INFO")
    bridge = Bridge(env, work / f"bridge-{'crash' if crash else 'clean'}.log")
    try:
        bridge.start()
        number, tickets = _setup(fs, gh, bridge, count)
        fs.post("/_sim/faults", {"path": "^/api/", "kind": "slow", "delay": latency, "times": 0})
        fs.http.delete("/_sim/requests")  # count only what the close causes
        started = time.perf_counter()
        gh.post(f"/_sim/issues/{number}/close", {"user": "dev", "commit_id": "0123456789abcdef0123"})
        key = close_key(gh, number)
        result: dict[str, Any] = {"tickets": count, "latency_s": latency, "crash": crash}
        if not crash:
            done = _wait_notes(fs, tickets, key, count, 120)
            gh.post("/_sim/hooks/wait-idle")
            (close,) = deliveries(gh, "issues")
            result["answer_ms"] = close["duration_ms"]
            result["answer"] = close["status_code"]
            result["all_written_s"] = None if done is None else round(done - started, 3)
        else:
            half = _wait_notes(fs, tickets, key, count // 2, 120)
            bridge.kill9()
            killed_at = time.perf_counter()
            result["killed_after_s"] = None if half is None else round(killed_at - started, 3)
            time.sleep(latency * 3)  # requests the dead process left in flight land (PHP finishes them)
            result["written_at_kill"] = _all_notes(fs, tickets, key)[0]
            bridge.env["SWEEP_INTERVAL_SECONDS"] = "1"
            restarted = time.perf_counter()
            bridge.start()  # a new process on the same port: FreeScout's webhook still reaches it
            done = _wait_notes(fs, tickets, key, count, 180)
            result["restart_to_all_written_s"] = None if done is None else round(done - restarted, 3)
            time.sleep(2.5)  # two more catch-up passes: nothing must be written twice
        fs.wait_idle()
        result["audit"] = dict(_all_notes(fs, tickets, key)[1])
        calls = [r for r in fs.get("/_sim/requests")["requests"] if r["path"].startswith("/api/")]
        result["freescout_calls"] = dict(Counter(f"{r['method']} {r['path'].split('/')[2]}" for r in calls))
        return result
    finally:
        bridge.stop()
        fs.close()
        gh.close()
        fs_server.stop()
        gh_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fan-out-") as tmp:
        runs = [run_once(args.tickets, args.latency, crash, Path(tmp)) for crash in (False, True)]
    out = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "runs": runs}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"fan_out-{datetime.now(UTC).strftime('%Y-%m-%d')}.json"
    path.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2, sort_keys=True))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
