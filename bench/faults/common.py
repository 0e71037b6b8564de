"""What the fault benches share: the audit of end states, time-to-link, machine facts and result files.

The rig itself (real bridge process, both simulators, FreeScout and GitHub control clients) is the one the
tests use: ``tests/faults/rig.py``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.harness import Deployment

RESULTS = Path(__file__).resolve().parent / "results"
FIELD_PUT = re.compile(r"^/api/conversations/(\d+)/custom_fields$")


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "",
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
    }


@dataclass
class Tickets:
    """Tickets the driver filed: conversation id -> the moment the simulator accepted it (epoch s)."""

    created: dict[int, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def file(self, rig: Deployment, subject: str) -> int:
        conversation_id = int(rig.fs.email(subject=subject, tags=["bug"])["id"])
        with self.lock:
            self.created[conversation_id] = time.time()
        return conversation_id

    def ids(self) -> list[int]:
        with self.lock:
            return sorted(self.created)


def audit(rig: Deployment, ids: Iterable[int]) -> dict[str, Any]:
    """Duplicates, unlinked tickets and note counts over ``ids``, from the simulators' state."""
    wanted = set(ids)
    issues_per: dict[int, list[str]] = {cid: [] for cid in wanted}
    for cid, urls in _issue_urls(rig).items():
        if cid in wanted:
            issues_per[cid] = urls
    state = {c["id"]: c for c in rig.fs.get("/_sim/state")["conversations"] if c["id"] in wanted}
    unlinked, mismatched, notes_missing, notes_extra = [], [], [], []
    for cid in sorted(wanted):
        conv = state[cid]
        value = next(
            (f["value"] for f in conv.get("customFields", []) if f["name"] == "github_issue_url"), ""
        )
        notes = [
            t
            for t in conv["_embedded"]["threads"]
            if t["type"] == "note" and (t.get("createdBy") or {}).get("id") == 9
        ]
        if not value:
            unlinked.append(cid)
        elif value not in issues_per[cid]:
            mismatched.append(cid)
        if value and not notes:
            notes_missing.append(cid)
        if len(notes) > 1:
            notes_extra.append(cid)
    duplicated = {cid: len(urls) for cid, urls in issues_per.items() if len(urls) > 1}
    return {
        "tickets": len(wanted),
        "issues": sum(len(u) for u in issues_per.values()),
        "duplicate_issues": sum(n - 1 for n in duplicated.values()),
        "tickets_with_duplicates": sorted(duplicated),
        "unlinked": unlinked,
        "field_not_its_issue": mismatched,
        "linked_without_note": notes_missing,
        "more_than_one_note": notes_extra,
    }


def _issue_urls(rig: Deployment) -> dict[int, list[str]]:
    from bridge.vocab import conversation_ids_in

    found: dict[int, list[str]] = {}
    for issue in rig.gh.issues():
        for cid in conversation_ids_in(issue.get("body")):
            found.setdefault(cid, []).append(issue["html_url"])
    return found


def link_times(rig: Deployment, tickets: Tickets) -> dict[int, float]:
    """Seconds from filing each ticket to the first successful ``PUT custom_fields`` the simulator logged."""
    first: dict[int, float] = {}
    for r in rig.fs.requests():
        match = FIELD_PUT.match(r["path"])
        if r["method"] == "PUT" and match and r.get("status") == 204:
            cid = int(match.group(1))
            first[cid] = min(first.get(cid, float("inf")), float(r["at"]))
    return {cid: first[cid] - created for cid, created in tickets.created.items() if cid in first}


def distribution(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)

    return {
        "n": len(ordered),
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
        "max": round(ordered[-1], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


def sweeps_logged(rig: Deployment) -> int:
    """Sweep passes finished by the web processes of this rig (their ``"msg": "sweep"`` log lines)."""
    count = 0
    for bridge in rig.bridges:
        for line in bridge.log_lines():
            if line.startswith("{") and json.loads(line).get("msg") == "sweep":
                count += 1
    return count


def deliveries_summary(rig: Deployment) -> dict[str, int]:
    """FreeScout's delivery log: attempts, failures, events dropped after 10 attempts, and attempts whose
    connection was cut after the request went out (a kill mid-delivery; a refused connect is not one)."""
    entries = rig.fs.deliveries()
    cut = [d for d in entries if d["error"] and not str(d["error"]).startswith("ConnectError")]
    return {
        "attempts": len(entries),
        "failed_attempts": sum(1 for d in entries if not d["ok"]),
        "dropped_events": sum(1 for d in entries if d["dropped"]),
        "cut_mid_request": len(cut),
    }


def write_times(rig: Deployment) -> dict[str, dict[int, float]]:
    """When each conversation's issue was created, its field set and its note posted (first success)."""
    from bridge.vocab import conversation_ids_in

    created: dict[int, float] = {}
    for r in rig.gh.requests():
        if r["method"] == "POST" and r["path"].endswith("/issues") and r.get("status") == 201:
            for cid in conversation_ids_in((r.get("response") or {}).get("body")):
                created.setdefault(cid, float(r["at"]))
    field_set: dict[int, float] = {}
    noted: dict[int, float] = {}
    for r in rig.fs.requests():
        match = re.match(r"^/api/conversations/(\d+)/(custom_fields|threads)$", r["path"])
        if not match or r.get("status") not in (201, 204):
            continue
        cid, what = int(match.group(1)), match.group(2)
        if what == "custom_fields":
            field_set.setdefault(cid, float(r["at"]))
        elif (r.get("json") or {}).get("type") == "note":
            noted.setdefault(cid, float(r["at"]))
    return {"created": created, "field_set": field_set, "noted": noted}


def killed_between(times: dict[str, dict[int, float]], kills: list[float]) -> dict[str, int]:
    """Links a kill interrupted between two of their writes (all of them finished later, or not: see audit)."""

    def count(first: str, second: str) -> int:
        n = 0
        for cid, start in times[first].items():
            end = times[second].get(cid, float("inf"))
            n += any(start < k < end for k in kills)
        return n

    return {
        "between_create_and_field": count("created", "field_set"),
        "between_field_and_note": count("field_set", "noted"),
    }


def save(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
