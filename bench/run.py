"""The benchmark: the bridge against a bare Starlette baseline, interleaved, under the Procfile's uvicorn flags.

    .venv/bin/python -m bench.run                 # everything, about 8 minutes on 2 cores
    .venv/bin/python -m bench.run --quick         # a smoke run (short phases; numbers not comparable)

Needs ``wrk`` (Debian: ``apt-get install -y wrk``; the script installs it when run as root) and ``taskset``
(util-linux). Server processes are pinned to CPU 0; wrk, the fixed-rate generator and the two simulators to
CPU 1, so client and server do not fight over one core. Results go to ``bench/results/<date>.json`` and
``.md``; see bench/README.md for how to read them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import openloop, oversize
from bench.payloads import BENCH_CONFIG, signed_requests, write_wrk_requests
from sandbox import freescout_sim, github_sim
from sandbox.freescout_sim import FreeScoutSimConfig
from sandbox.github_sim import GitHubSimConfig
from sandbox.serve import ServerThread
from tests.harness import free_port, procfile_web_args

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PATH = "/api/webhooks/freescout/support"
STACKS = {
    "asyncio+h11": ["--loop", "asyncio", "--http", "h11"],
    "uvloop+h11": ["--loop", "uvloop", "--http", "h11"],
    "uvloop+httptools": ["--loop", "uvloop", "--http", "httptools"],
}
SERVER_CPU, CLIENT_CPU = "0", "1"
# Shared machines run other work: as root, the servers and load generators get nice -10 (CFS weight ~10x),
# the same for baseline and bridge. Per-request CPU time is reported beside req/s for the same reason.
PRIORITY = ["nice", "-n", "-10"] if os.geteuid() == 0 else []


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update"], check=True, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        return shutil.which("wrk") or sys.exit("wrk did not install")
    sys.exit("wrk is missing: apt-get install -y wrk (Debian/Ubuntu), then run again")


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def status(self) -> dict[str, int]:
        return oversize.proc_status(self.proc.pid)

    def cpu_seconds(self) -> float:
        """utime + stime of the server process: unlike req/s, barely moved by other processes' load."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(name: str, target: str, flags: list[str], env: dict[str, str], workdir: Path) -> Iterator[Server]:
    """uvicorn with the Procfile's flags (``flags`` appended, so they win), pinned to the server CPU."""
    port = free_port()
    args = procfile_web_args(port)
    args[args.index("bridge.app:app_from_env")] = target
    log = workdir / f"{name}-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *args, *flags],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Server(name, proc, port, log)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.post(running.url + PATH, content=b"{}", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start:\n{log.read_text()}") from None
                time.sleep(0.05)
        yield running
    finally:
        proc.terminate()
        proc.wait(15)


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_quiet(limit: float, patience: float) -> float:
    """Wait (up to ``patience`` s) for the 1-minute load average to drop below ``limit``; return it."""
    deadline = time.monotonic() + patience
    while loadavg() >= limit and time.monotonic() < deadline:
        time.sleep(5)
    return loadavg()


def wrk(target: Server, seconds: float, connections: int, requests_file: Path) -> dict[str, Any]:
    env = {**os.environ, "BENCH_REQUESTS": str(requests_file)}
    command = [
        *PRIORITY,
        "taskset",
        "-c",
        CLIENT_CPU,
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(ROOT / "bench" / "post.lua"),
        target.url + PATH,
    ]
    cpu = target.cpu_seconds()
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    cpu = target.cpu_seconds() - cpu
    match = re.search(r"WRK_JSON (\{.*\})", out)
    assert match, out
    result: dict[str, Any] = json.loads(match.group(1))
    result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    result["server_cpu_us_per_request"] = round(cpu / max(1, result["requests"]) * 1e6, 1)
    result["loadavg_after"] = loadavg()
    return result


def fixed_rate(target: Server, rate: float, seconds: float) -> dict[str, Any]:
    cpu = target.cpu_seconds()
    result: dict[str, Any] = openloop.run("127.0.0.1", target.port, raw_requests(target.port), rate, seconds)
    result["server_cpu_us_per_request"] = round(
        (target.cpu_seconds() - cpu) / max(1, result["requests"]) * 1e6, 1
    )
    result["loadavg_after"] = loadavg()
    return result


def check_answers(url: str) -> None:
    """Each decidable delivery is answered 200 ignore with its expected reason."""
    for name, event, raw, signature, reason in signed_requests():
        answer = httpx.post(
            url + PATH,
            content=raw,
            headers={
                "X-FreeScout-Event": event,
                "X-FreeScout-Signature": signature,
                "Content-Type": "application/json",
            },
        )
        body = answer.json()
        assert answer.status_code == 200 and body["reason"] == reason, (name, answer.status_code, body)


def machine() -> dict[str, Any]:
    cpu = next(
        (
            x.split(":", 1)[1].strip()
            for x in Path("/proc/cpuinfo").read_text().splitlines()
            if x.startswith("model name")
        ),
        "",
    )
    versions = {}
    for module in ("uvicorn", "starlette", "structlog", "uvloop", "httptools", "h11"):
        try:
            versions[module] = __import__(module).__version__
        except (ImportError, AttributeError):
            versions[module] = "?"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "versions": versions,
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def raw_requests(port: int) -> list[bytes]:
    return [
        openloop.raw_request(
            PATH,
            f"127.0.0.1:{port}",
            {"Content-Type": "application/json", "X-FreeScout-Event": event, "X-FreeScout-Signature": sig},
            raw,
        )
        for _name, event, raw, sig, _reason in signed_requests()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10, help="each wrk throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved baseline/bridge rounds per stack")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--latency-seconds", type=float, default=10)
    parser.add_argument("--latency-repeats", type=int, default=3, help="alternating baseline/bridge runs")
    parser.add_argument("--memory-requests", type=int, default=100_000)
    parser.add_argument("--stacks", default=",".join(STACKS))
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s phases, 1 round, 10k requests")
    parser.add_argument(
        "--bridge-target",
        default="bridge.app:app_from_env",
        help="a uvicorn factory to measure instead, e.g. an experiment module under bench/",
    )
    parser.add_argument(
        "--extra", default="", help="uvicorn flags appended for every server, e.g. --no-access-log"
    )
    parser.add_argument("--quiet-load", type=float, default=0.6, help="wait for loadavg below this per stack")
    parser.add_argument("--patience", type=float, default=120, help="longest wait for a quiet machine (s)")
    parser.add_argument("--tag", default="", help="suffix for the result file names")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.latency_seconds, args.memory_requests = 2, 1, 3, 10_000
        args.latency_repeats = 1
    ensure_wrk()
    os.sched_setaffinity(0, {int(CLIENT_CPU)})
    if PRIORITY:
        os.nice(-10)  # the fixed-rate generator runs in this process
    work = Path(tempfile.mkdtemp(prefix="bridge-bench-"))
    (work / "bridge.toml").write_text(BENCH_CONFIG)
    requests_file = write_wrk_requests(work / "requests.txt")
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "args": vars(args),
    }
    report["procfile_web"] = next(
        x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:")
    )
    fs_config, gh_config = FreeScoutSimConfig(), GitHubSimConfig()
    with (
        ServerThread(freescout_sim.create_app(fs_config)) as fs,
        ServerThread(github_sim.create_app(gh_config)) as gh,
    ):
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("GITHUB_", "FREESCOUT_", "FLAG_", "BRIDGE_"))
            },
            "FREESCOUT_URL": fs.url,
            "FREESCOUT_API_KEY": fs_config.api_key,
            "FREESCOUT_WEBHOOK_SECRET": fs_config.webhook_secret,
            "FREESCOUT_BOT_USER_ID": str(fs_config.bot_user_id),
            "GITHUB_REPOSITORY": "acme/app",
            "GITHUB_API_URL": gh.url,
            "GITHUB_ISSUE_BOT_TOKEN": gh_config.token,
            "FLAG_FREESCOUT_GITHUB_AUTOLINK": "true",
            "SWEEP_INTERVAL_SECONDS": "0",
            "BRIDGE_CONFIG": str(work / "bridge.toml"),
        }
        httpx.delete(f"{fs.url}/_sim/requests")
        starts = 0
        report["stacks"] = {}
        for stack in args.stacks.split(","):
            flags = STACKS[stack] + args.extra.split()
            quiet = wait_quiet(args.quiet_load, args.patience)
            print(f"== {stack} (load average {quiet})", flush=True)
            with (
                server("baseline", "bench.baseline_app:create_app", flags, env, work) as base,
                server("bridge", args.bridge_target, flags, env, work) as bridge,
            ):
                starts += 1
                check_answers(bridge.url)
                wrk(base, 2, args.connections, requests_file)  # warm-up both
                wrk(bridge, 2, args.connections, requests_file)
                rounds = []
                for _ in range(args.rounds):
                    b = wrk(base, args.seconds, args.connections, requests_file)
                    r = wrk(bridge, args.seconds, args.connections, requests_file)
                    cpu_ratio = b["server_cpu_us_per_request"] / r["server_cpu_us_per_request"]
                    rounds.append(
                        {
                            "baseline": b,
                            "bridge": r,
                            "ratio": round(r["rps"] / b["rps"], 3),
                            "cpu_ratio": round(cpu_ratio, 3),
                        }
                    )
                    print(
                        f"   baseline {b['rps']:>9} req/s {b['server_cpu_us_per_request']:>6} µs CPU   "
                        f"bridge {r['rps']:>9} req/s {r['server_cpu_us_per_request']:>6} µs CPU   "
                        f"ratio {rounds[-1]['ratio']} (CPU {rounds[-1]['cpu_ratio']})",
                        flush=True,
                    )
                runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "bridge": []}
                for _ in range(args.latency_repeats):
                    runs["baseline"].append(fixed_rate(base, args.rate, args.latency_seconds))
                    runs["bridge"].append(fixed_rate(bridge, args.rate, args.latency_seconds))
                latency = {
                    name: {
                        "runs": got,
                        "requests": sum(x["requests"] for x in got),
                        **{
                            key: statistics.median(x[key] for x in got)
                            for key in (
                                "p50_ms",
                                "p90_ms",
                                "p99_ms",
                                "p99.9_ms",
                                "service_p50_ms",
                                "service_p99_ms",
                            )
                        },
                    }
                    for name, got in runs.items()
                }
                lb, lr = latency["baseline"], latency["bridge"]
                print(
                    f"   at {args.rate:g}/s (median of {args.latency_repeats})  baseline p50 {lb['p50_ms']} "
                    f"p99 {lb['p99_ms']}   bridge p50 {lr['p50_ms']} p99 {lr['p99_ms']} ms; bridge p99 per run "
                    f"{[x['p99_ms'] for x in runs['bridge']]}, baseline {[x['p99_ms'] for x in runs['baseline']]}",
                    flush=True,
                )
                served = sum(x["bridge"]["requests"] for x in rounds) + latency["bridge"]["requests"]
                report["stacks"][stack] = {
                    "rounds": rounds,
                    "baseline_rps_median": statistics.median(x["baseline"]["rps"] for x in rounds),
                    "bridge_rps_median": statistics.median(x["bridge"]["rps"] for x in rounds),
                    "ratio_median": statistics.median(x["ratio"] for x in rounds),
                    "cpu_ratio_median": statistics.median(x["cpu_ratio"] for x in rounds),
                    "baseline_cpu_us_median": statistics.median(
                        x["baseline"]["server_cpu_us_per_request"] for x in rounds
                    ),
                    "bridge_cpu_us_median": statistics.median(
                        x["bridge"]["server_cpu_us_per_request"] for x in rounds
                    ),
                    "latency": latency,
                    "bridge_memory_kb": {**bridge.status(), "requests_served": served},
                }
        procfile_stack = "procfile"
        print("== memory and 413 on the Procfile's own stack", flush=True)
        with server("bridge", args.bridge_target, args.extra.split(), env, work) as bridge:
            starts += 1
            check_answers(bridge.url)
            start_status = bridge.status()
            served = 0
            while served < args.memory_requests:
                result = wrk(bridge, args.seconds, args.connections, requests_file)
                served += result["requests"] + result["non_2xx"] * 0
            end_status = bridge.status()
            report["memory"] = {
                "stack": procfile_stack,
                "requests": served,
                "start_kb": start_status,
                "end_kb": end_status,
            }
            print(
                f"   {served} requests: VmHWM {end_status['VmHWM'] / 1024:.1f} MB (VmRSS {start_status['VmRSS'] / 1024:.1f} -> {end_status['VmRSS'] / 1024:.1f} MB)",
                flush=True,
            )
            report["oversize"] = oversize.measure(
                bridge.port, bridge.proc.pid, 1024 * 1024, repeats=200 if not args.quick else 30
            )
            o = report["oversize"]
            print(
                f"   413 declared p50 {o['declared']['p50_ms']} p99 {o['declared']['p99_ms']} ms; chunked p50 {o['chunked']['p50_ms']} p99 {o['chunked']['p99_ms']} ms; RSS growth {o['rss_growth_kb']} kB",
                flush=True,
            )
        fs_calls = [(r["method"], r["path"]) for r in httpx.get(f"{fs.url}/_sim/requests").json()["requests"]]
        gh_calls = [(r["method"], r["path"]) for r in httpx.get(f"{gh.url}/_sim/requests").json()["requests"]]
    report["upstream"] = {
        "freescout_calls": len(fs_calls),
        "freescout_other_than_startup": [c for c in fs_calls if c != ("GET", "/api/mailboxes")],
        "bridge_starts": starts,
        "github_calls": len(gh_calls),
    }
    report["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"== upstream calls: FreeScout {len(fs_calls)} (bridge starts: {starts}), GitHub {len(gh_calls)}",
        flush=True,
    )
    assert not report["upstream"]["freescout_other_than_startup"] and not gh_calls, report["upstream"]
    write_results(report, args.tag)


def write_results(report: dict[str, Any], tag: str) -> None:
    from bench.report import markdown

    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = report["date"][:10] + (f"-{tag}" if tag else "")
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(report))
    print(f"wrote bench/results/{stem}.json and .md")


if __name__ == "__main__":
    main()
