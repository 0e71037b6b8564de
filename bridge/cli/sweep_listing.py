"""The lines under a sweep's counts that name each conversation: what a dry run would link, and why.

An operator about to switch on reads these, so each line carries what identifies a ticket at a glance
(id, mailbox, subject, trigger tags, age) and the decision with its reason. Held-back conversations can
number in the hundreds: the text shows the first few and the count, ``--json`` lists them all.
"""

from __future__ import annotations

from typing import Any

HELD_BACK_SHOWN = 10


def item_line(item: dict[str, Any]) -> str:
    """``#1287  Support  "CSV export fails"  [bug]  3 d  → would_link: tag:bug``."""
    tags = ", ".join(str(t) for t in item.get("tags") or [])
    line = (
        f'  #{item["conversation_id"]}  {item.get("mailbox", "")}  "{item.get("subject", "")}"  '
        f"[{tags}]  {item.get('age', '?')}  → {item['outcome']}: {item['reason']}"
    )
    url = item.get("issue_url")
    return f"{line} {url}" if url else line


def listing_lines(report: dict[str, Any]) -> list[str]:
    """The cut-off, what it held back, what ``--limit`` deferred, then one line per conversation."""
    lines: list[str] = []
    if report.get("cutoff"):
        lines.append(f"  cut-off: {report['cutoff']}")
    held = int(report.get("held_back") or 0)
    if held:
        lines.append(f"  held back by the cut-off: {held} (never linked on their own; sync ID links one)")
    deferred = int(report.get("deferred") or 0)
    if deferred:
        lines.append(f"  deferred by --limit: {deferred} (the next pass continues, oldest first)")
    items: list[dict[str, Any]] = list(report.get("items") or [])
    handled = [i for i in items if i.get("outcome") != "held_back"]
    held_items = [i for i in items if i.get("outcome") == "held_back"]
    lines.extend(item_line(i) for i in handled)
    lines.extend(item_line(i) for i in held_items[:HELD_BACK_SHOWN])
    if len(held_items) > HELD_BACK_SHOWN:
        lines.append(f"  … and {len(held_items) - HELD_BACK_SHOWN} more held back (--json lists every one)")
    return lines
