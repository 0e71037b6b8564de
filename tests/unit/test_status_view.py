"""The status page's HTML: escaped, hashed style only, and the facts an operator asked for."""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter

from bridge.decisions import DecisionRecord, LastSweep
from bridge.status_view import CSP, STYLE, Filters, StatusFacts, render_page, when

NOW = 1_800_000_000.0


def facts(**changes: object) -> StatusFacts:
    base: dict[str, object] = {
        "now": NOW,
        "autolink": False,
        "repository": "acme/app",
        "mailboxes": ("support@example.com",),
        "tags": ("bug", "feature_request"),
        "cutoff": "2026-11-01",
        "held_back": 3,
        "sweep_interval": 300.0,
        "last_sweep": LastSweep(NOW - 120, "ok", "schedule", False),
        "next_sweep_at": NOW + 180,
        "budget_left": {"minute": 58, "hour": 390},
        "budget_limits": {"minute": 60, "hour": 400},
        "retry_after": 0.0,
        "upstream_success": {"freescout": NOW - 5},
    }
    base.update(changes)
    return StatusFacts(**base)  # type: ignore[arg-type]


def page(records: list[DecisionRecord] | None = None, **changes: object) -> str:
    counts = Counter({"linked": 2, "ignore": 5})
    return render_page(facts(**changes), records or [], counts, counts, Filters(), ["ignore", "linked"], 500)


def test_the_csp_names_the_hash_of_the_one_style_block_and_allows_nothing_else() -> None:
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in CSP
    assert "default-src 'none'" in CSP and "script" not in CSP
    html = page()
    assert html.count("<style>") == 1 and f"<style>{STYLE}</style>" in html
    assert "<script" not in html and " style=" not in html
    assert not re.search(r"(src|href)=\"https?://(?!github)", html), "no external assets"


def test_the_facts_show_mode_scope_cutoff_sweeps_budget_and_upstreams() -> None:
    html = page()
    assert "shadow: deciding and logging, writing nothing" in html
    assert "support@example.com" in html and "bug, feature_request" in html
    assert "2026-11-01 (3 held back by the last sweep)" in html
    assert "ok (schedule)" in html and "(in 3 min)" in html and "(2 min ago)" in html
    assert "58 of 60 this minute, 390 of 400 this hour" in html
    assert "FreeScout last answered</dt><dd>" in html and "(5 s ago)" in html
    assert "GitHub last answered</dt><dd>never since the web process started" in html
    assert "on: writing to GitHub and FreeScout" in page(autolink=True)
    assert "GitHub asked to wait 42 s" in page(retry_after=42.0)


def test_everything_interpolated_is_escaped() -> None:
    record = DecisionRecord(
        NOW, "webhook", "convo.created", 7, "ignore<b>", "<script>x</script>", "javascript:x"
    )
    html = page([record], repository="<img src=x>")
    assert "<script>x" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<img src=x>" not in html and "ignore&lt;b&gt;" in html
    assert "javascript:" not in html, "only http(s) issue links become links"


def test_the_decisions_table_links_the_issue_and_says_when_nothing_matches() -> None:
    url = "https://github.com/acme/app/issues/42"
    html = page([DecisionRecord(NOW - 30, "sweep", "sweep", 1287, "linked", "tag:bug", url)])
    assert f'<a href="{url}" rel="noreferrer">42</a>' in html
    assert "<td class='num'>1287</td><td>linked</td><td>tag:bug</td>" in html
    assert "No decisions match." in page([])


def test_times_read_as_utc_with_a_relative_hint() -> None:
    assert when(NOW - 7200, NOW).endswith("(2.0 h ago)")
    assert when(None, NOW) == "never since the web process started"
