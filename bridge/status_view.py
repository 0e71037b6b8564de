"""The status page's HTML, rendered from plain values (no I/O, no templates engine, no scripts).

Everything interpolated is escaped; the only style is one ``<style>`` block whose hash the
Content-Security-Policy names, so the page works offline and under ``default-src 'none'``. The chart is
inline SVG drawn with presentation attributes (which that policy allows), not style attributes.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from html import escape

from bridge.decisions import DecisionRecord, LastSweep

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#1b1f24;
background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.mode{display:inline-block;padding:2px 8px;border-radius:4px;font-weight:600}
.mode.on{background:#d8f5dd;color:#14532d}.mode.shadow{background:#fff4cc;color:#6b4e00}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #d0d7de;vertical-align:top}
thead th{background:#1f4e79;color:#fff}
tbody tr:nth-child(even){background:#eef3f8}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#57606a}.bad{color:#a40e26;font-weight:600}
form.filter{display:flex;gap:12px;align-items:end;margin:0 0 8px}
form.filter label{display:flex;flex-direction:column;font-size:12px}
input,select,button{font:inherit;padding:3px 6px}
"""
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'none'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
BAR_COLOURS = {
    "linked": "#1a7f37",
    "would_link": "#0969da",
    "ignore": "#8c959f",
    "refused": "#bc4c00",
    "retry_later": "#cf222e",
    "failed": "#82071e",
    "held_back": "#8250df",
}


@dataclass(frozen=True)
class StatusFacts:
    """What the bridge is doing now, as the page shows it (gathered by ``status_page``)."""

    now: float
    autolink: bool
    repository: str
    mailboxes: tuple[str, ...]
    tags: tuple[str, ...]
    cutoff: str
    held_back: int | None
    sweep_interval: float
    last_sweep: LastSweep | None
    next_sweep_at: float | None
    budget_left: dict[str, int] | None
    budget_limits: dict[str, int]
    retry_after: float
    upstream_success: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Filters:
    conversation_id: int | None = None
    outcome: str | None = None


def when(at: float | None, now: float) -> str:
    """``2026-11-29 23:40:12 UTC (3 min ago)``; ``in 2 min`` for the future."""
    if at is None:
        return "never since the web process started"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))
    delta = now - at
    words = _ago(abs(delta))
    return f"{stamp} ({words} ago)" if delta >= 0 else f"{stamp} (in {words})"


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _facts(f: StatusFacts) -> str:
    mode = (
        '<span class="mode on">on: writing to GitHub and FreeScout</span>'
        if f.autolink
        else '<span class="mode shadow">shadow: deciding and logging, writing nothing</span>'
    )
    if f.last_sweep is None:
        last = "none since the web process started"
    else:
        s = f.last_sweep
        kind = "dry run, " if s.dry_run else ""
        last = f"{when(s.finished_at, f.now)}: {s.result} ({kind}{s.source})"
    if f.next_sweep_at is not None:
        upcoming = when(f.next_sweep_at, f.now)
    elif f.sweep_interval > 0:
        upcoming = f"every {f.sweep_interval:g} s, the first once the web process has been up that long"
    else:
        upcoming = "not scheduled here (SWEEP_INTERVAL_SECONDS=0: an external scheduler runs it)"
    if f.budget_left is None:
        budget = "unknown (no GitHub write gate in this process)"
    else:
        budget = ", ".join(
            f"{f.budget_left.get(w, 0)} of {f.budget_limits.get(w, 0)} this {w}" for w in ("minute", "hour")
        )
        if f.retry_after > 0:
            budget += f'; <span class="bad">GitHub asked to wait {f.retry_after:.0f} s</span>'
    held = "" if f.held_back is None else f" ({f.held_back} held back by the last sweep)"
    rows = [
        ("Autolink", mode),
        ("GitHub repository", escape(f.repository)),
        ("Mailboxes", escape(", ".join(f.mailboxes)) if f.mailboxes else "every mailbox"),
        ("Trigger tags", escape(", ".join(f.tags))),
        ("Cut-off", escape(f.cutoff) + escape(held)),
        ("Last sweep", escape(last)),
        ("Next sweep", escape(upcoming)),
        ("GitHub write budget left", budget),
    ]
    for api in ("freescout", "github"):
        seen = f.upstream_success.get(api)
        text = escape(when(seen, f.now))
        rows.append((f"{'FreeScout' if api == 'freescout' else 'GitHub'} last answered", text))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<dl class="facts" id="facts">{body}</dl>'


def _chart(hour: Counter[str], day: Counter[str]) -> str:
    """A table of counts per outcome, each row with an inline SVG bar scaled to the day's largest."""
    outcomes = sorted(set(day) | set(hour), key=lambda o: (-day[o], o))
    if not outcomes:
        return '<p class="muted" id="counts">No decisions yet.</p>'
    top = max(day.values()) or 1
    rows = []
    for outcome in outcomes:
        width = max(1, round(240 * day[outcome] / top))
        colour = BAR_COLOURS.get(outcome, "#57606a")
        bar = (
            f'<svg width="240" height="12" role="img" aria-label="{day[outcome]} in the last day">'
            f'<rect x="0" y="1" width="{width}" height="10" fill="{colour}"/></svg>'
        )
        rows.append(
            f"<tr><td>{escape(outcome)}</td><td class='num'>{hour[outcome]}</td>"
            f"<td class='num'>{day[outcome]}</td><td>{bar}</td></tr>"
        )
    head = "<thead><tr><th>outcome</th><th>last hour</th><th>last day</th><th></th></tr></thead>"
    return f'<table id="counts">{head}<tbody>{"".join(rows)}</tbody></table>'


def _filter_form(filters: Filters, outcomes: list[str]) -> str:
    chosen = filters.outcome or ""
    options = ['<option value="">any</option>'] + [
        f'<option value="{escape(o)}"{" selected" if o == chosen else ""}>{escape(o)}</option>'
        for o in sorted(set(outcomes) | ({chosen} - {""}))
    ]
    conv = "" if filters.conversation_id is None else str(filters.conversation_id)
    return (
        '<form class="filter" method="get" action="">'
        f'<label>conversation id<input name="conversation" inputmode="numeric" size="10" value="{conv}"></label>'
        f'<label>outcome<select name="outcome">{"".join(options)}</select></label>'
        '<button type="submit">Filter</button> <a href="?">clear</a></form>'
    )


def _decision_rows(records: list[DecisionRecord], now: float) -> str:
    if not records:
        return '<tr><td colspan="7" class="muted">No decisions match.</td></tr>'
    rows = []
    for r in records:
        link = (
            f'<a href="{escape(r.issue_url)}" rel="noreferrer">{escape(r.issue_url.rsplit("/", 1)[-1])}</a>'
            if r.issue_url.startswith("https://") or r.issue_url.startswith("http://")
            else ""
        )
        conv = "" if r.conversation_id is None else str(r.conversation_id)
        rows.append(
            f"<tr><td>{escape(when(r.at, now))}</td><td>{escape(r.source)}</td><td>{escape(r.event)}</td>"
            f"<td class='num'>{conv}</td><td>{escape(r.outcome)}</td><td>{escape(r.reason)}</td>"
            f"<td>{link}</td></tr>"
        )
    return "".join(rows)


def render_page(
    facts: StatusFacts,
    records: list[DecisionRecord],
    hour: Counter[str],
    day: Counter[str],
    filters: Filters,
    outcomes: list[str],
    ring_size: int,
) -> str:
    head = (
        "<thead><tr><th>time</th><th>source</th><th>event</th><th>conversation</th><th>outcome</th>"
        "<th>reason</th><th>issue</th></tr></thead>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>freescout-github-bridge status</title><style>{STYLE}</style></head><body>"
        "<h1>freescout-github-bridge</h1>"
        f'<p class="muted">Read-only. As of {escape(when(facts.now, facts.now))}; '
        '<a href="">reload</a>. Kept in memory: a restart starts the lists afresh.</p>'
        f"<h2>Now</h2>{_facts(facts)}"
        f"<h2>Outcomes</h2>{_chart(hour, day)}"
        f"<h2>Recent decisions (the last {ring_size})</h2>{_filter_form(filters, outcomes)}"
        f'<table id="decisions">{head}<tbody>{_decision_rows(records, facts.now)}</tbody></table>'
        "</body></html>"
    )
