"""The link cut-off: conversations created before it are held back, not linked.

Why: switching autolink on in front of a help desk with years of ``bug`` tags would open an issue for
every one of them at the next sweep. ``[autolink] link_since`` (a date or UTC time) and/or
``[autolink] max_age_days`` set the cut-off; when both are set, the later instant wins.

It applies to the conversation's **creation** time, on every path that links on its own: the sweep and
webhooks alike, so an old conversation that comes back to life with a customer reply stays held back
(otherwise old tickets would trickle into GitHub for months as customers reply). An operator who wants
one linked asks for it by name: ``freescout-bridge sync ID`` ignores the cut-off. Pure: no I/O, and
``now`` is always passed in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

REASON = "created_before_cutoff"


def parse_link_since(value: object) -> datetime | None:
    """``2026-11-01`` (TOML date or string, midnight UTC) or ``2026-11-01T08:00:00Z``; empty means none."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return parse_link_since(date.fromisoformat(text))
            return parse_link_since(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
    raise ValueError(
        f"link_since {value!r} must be a date like 2026-11-01 or a UTC time like 2026-11-01T08:00:00Z"
    )


def parse_max_age_days(value: object) -> float:
    days = float(value)  # type: ignore[arg-type]  # TOML gives int or float; anything else raises
    if days < 0 or days != days:
        raise ValueError(f"max_age_days {value!r} must be 0 (no limit) or a positive number of days")
    return days


def cutoff_at(link_since: datetime | None, max_age_days: float, now: datetime) -> datetime | None:
    """The instant before which conversations are held back, or ``None`` when there is no cut-off."""
    by_age = now - timedelta(days=max_age_days) if max_age_days > 0 else None
    found = [c for c in (link_since, by_age) if c is not None]
    return max(found) if found else None


def created_at(value: str) -> datetime | None:
    """FreeScout's ``createdAt`` (``2025-03-04T09:12:44Z``); ``None`` when absent or malformed."""
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def held_back(created: str, cutoff: datetime | None) -> bool:
    """Created before the cut-off. An unknown creation time is not held back (it cannot be shown old)."""
    when = created_at(created)
    return cutoff is not None and when is not None and when < cutoff


def describe(link_since: datetime | None, max_age_days: float, now: datetime) -> str:
    """One line for the doctor, the sweep and the status page."""
    cutoff = cutoff_at(link_since, max_age_days, now)
    if cutoff is None:
        return "none: every tagged conversation may be linked, however old"
    parts = []
    if link_since is not None:
        parts.append(f"link_since {stamp(link_since)}")
    if max_age_days > 0:
        parts.append(f"max_age_days {max_age_days:g}")
    return f"conversations created before {stamp(cutoff)} are held back ({', '.join(parts)})"


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def age(created: str, now: datetime) -> str:
    """``412 d``, ``5 h``, ``12 min``; ``?`` when the creation time is unknown."""
    when = created_at(created)
    if when is None:
        return "?"
    seconds = max(0.0, (now - when).total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} d"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 60:.0f} min"
