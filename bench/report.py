"""Render a bench result (bench/results/*.json) as the Markdown table used in bench/README.md."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

BARS = {"ratio": 0.45, "p50_ms": 1.5, "p99_ms": 5.0, "hwm_mb": 80.0, "413_ms": 5.0, "413_growth_mb": 5.0}


def _ok(good: bool) -> str:
    return "met" if good else "**missed**"


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"# Bench run {report['date']}",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, Linux {m['kernel']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f". Load average at start {' '.join(m['loadavg_start'])}, at end {' '.join(m.get('loadavg_end', []))}.",
        "",
        f"Procfile: `{report['procfile_web']}`",
        "",
        "| stack | baseline req/s | bridge req/s | ratio (bar ≥ 0.45) | server CPU per request, baseline / bridge "
        "(ratio) | bridge p50 / p99 at "
        f"{report['args']['rate']:g}/s (bars 1.5 / 5 ms) | baseline p50 / p99 | bridge VmHWM |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for stack, s in report["stacks"].items():
        lat = s["latency"]
        lines.append(
            f"| {stack} | {s['baseline_rps_median']:,.0f} | {s['bridge_rps_median']:,.0f} | "
            f"{s['ratio_median']:.2f} ({_ok(s['ratio_median'] >= BARS['ratio'])}) | "
            f"{s.get('baseline_cpu_us_median', 0):.0f} / {s.get('bridge_cpu_us_median', 0):.0f} µs "
            f"({s.get('cpu_ratio_median', 0):.2f}) | "
            f"{lat['bridge']['p50_ms']:.2f} / {lat['bridge']['p99_ms']:.2f} ms "
            f"({_ok(lat['bridge']['p50_ms'] <= BARS['p50_ms'] and lat['bridge']['p99_ms'] <= BARS['p99_ms'])}) | "
            f"{lat['baseline']['p50_ms']:.2f} / {lat['baseline']['p99_ms']:.2f} ms | "
            f"{s['bridge_memory_kb']['VmHWM'] / 1024:.1f} MB |"
        )
    lines += [
        "",
        "Latency runs (p50 / p99 ms, each run 1 s warm-up dropped; 'late' = requests the generator itself"
        " sent > 1 ms late, i.e. the whole machine stalled):",
        "",
    ]
    for stack, s in report["stacks"].items():
        for name in ("baseline", "bridge"):
            runs = s["latency"][name].get("runs", [s["latency"][name]])
            cells = ", ".join(
                f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} (late {r.get('sent_late_over_1ms', '?')})"
                for r in runs
            )
            lines.append(f"- {stack} {name}: {cells}")
    mem = report["memory"]
    hwm = mem["end_kb"]["VmHWM"] / 1024
    o = report["oversize"]
    worst_413 = max(o["declared"]["p99_ms"], o["chunked"]["p99_ms"])
    growth = o["rss_growth_kb"] / 1024
    up = report["upstream"]
    lines += [
        "",
        f"- Peak RSS after {mem['requests']:,} requests on the Procfile stack: VmHWM **{hwm:.1f} MB** "
        f"(bar ≤ 80 MB: {_ok(hwm <= BARS['hwm_mb'])}); VmRSS {mem['start_kb']['VmRSS'] / 1024:.1f} → "
        f"{mem['end_kb']['VmRSS'] / 1024:.1f} MB.",
        f"- 413, declared Content-Length: p50 {o['declared']['p50_ms']} ms, p99 {o['declared']['p99_ms']} ms, "
        f"max {o['declared']['max_ms']} ms; chunked, from the chunk that crosses the limit: p50 "
        f"{o['chunked']['p50_ms']} ms, p99 {o['chunked']['p99_ms']} ms, max {o['chunked']['max_ms']} ms "
        f"(bar 5 ms: {_ok(worst_413 <= BARS['413_ms'])}). RSS growth over {o['declared']['requests'] + o['chunked']['requests']} "
        f"oversized requests: {growth:.2f} MB (bar < 5 MB: {_ok(growth < BARS['413_growth_mb'])}).",
        f"- Upstream calls: FreeScout {up['freescout_calls']} (only the start-up mailbox list, "
        f"{up['bridge_starts']} bridge starts), GitHub {up['github_calls']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(json.loads(Path(sys.argv[1]).read_text())))
