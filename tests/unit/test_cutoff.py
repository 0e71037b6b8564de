"""The link cut-off: parsing, the later of link_since and max_age_days, and the held-back decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bridge import cutoff
from bridge.criteria import Action, Rules, decide_link
from bridge.model import parse_conversation
from bridge.settings import BridgeConfig, SettingsError, config_from_mapping

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        (date(2026, 11, 1), datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T08:30:00Z", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("2026-11-01T10:30:00+02:00", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        (datetime(2026, 11, 1, 8, 30), datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_link_since_reads_dates_and_utc_times(value: object, expected: datetime | None) -> None:
    assert cutoff.parse_link_since(value) == expected


def test_the_config_file_sets_the_cutoff_and_refuses_nonsense() -> None:
    config = config_from_mapping({"autolink": {"link_since": date(2026, 11, 1), "max_age_days": 90}})
    assert config.link_since == datetime(2026, 11, 1, tzinfo=UTC) and config.max_age_days == 90
    assert BridgeConfig().cutoff(NOW) is None, "no cut-off unless configured"
    for bad in ({"link_since": "last tuesday"}, {"max_age_days": -1}, {"max_age_days": "many"}):
        with pytest.raises(SettingsError, match="invalid value"):
            config_from_mapping({"autolink": bad})


def test_the_later_of_the_two_limits_wins() -> None:
    since = datetime(2026, 11, 1, tzinfo=UTC)
    assert cutoff.cutoff_at(since, 0, NOW) == since
    assert cutoff.cutoff_at(None, 7, NOW) == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert cutoff.cutoff_at(since, 7, NOW) == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert cutoff.cutoff_at(since, 90, NOW) == since
    assert cutoff.cutoff_at(None, 0, NOW) is None


@pytest.mark.parametrize(
    ("created", "held"),
    [("2026-10-31T23:59:59Z", True), ("2026-11-01T00:00:00Z", False), ("", False), ("garbage", False)],
)
def test_held_back_means_created_strictly_before_the_cutoff(created: str, held: bool) -> None:
    assert cutoff.held_back(created, datetime(2026, 11, 1, tzinfo=UTC)) is held
    assert cutoff.held_back(created, None) is False


def test_describe_and_age_read_for_people() -> None:
    assert cutoff.describe(None, 0, NOW).startswith("none: every tagged conversation may be linked")
    line = cutoff.describe(datetime(2026, 11, 1, tzinfo=UTC), 0, NOW)
    assert (
        line
        == "conversations created before 2026-11-01T00:00:00Z are held back (link_since 2026-11-01T00:00:00Z)"
    )
    assert cutoff.age("2024-11-29T12:00:00Z", NOW) == "730 d"
    assert cutoff.age("2026-11-29T07:00:00Z", NOW) == "5 h"
    assert cutoff.age("2026-11-29T11:48:00Z", NOW) == "12 min"
    assert cutoff.age("", NOW) == "?"


def conversation(created_at: str, tags: list[str], field_value: str = "") -> dict[str, object]:
    return {
        "id": 1287,
        "number": 1287,
        "status": "active",
        "state": "published",
        "subject": "CSV export fails",
        "mailboxId": 2,
        "createdAt": created_at,
        "_embedded": {"threads": [], "tags": [{"id": 1, "name": t} for t in tags]},
        "customFields": [{"id": 7, "name": "github_issue_url", "value": field_value, "text": field_value}],
    }


RULES = Rules(BridgeConfig(), bot_user_id=9, mailbox_ids=None)
SINCE = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("created", "tags", "field", "expected"),
    [
        ("2024-01-10T10:00:00Z", ["bug"], "", (Action.HOLD, "created_before_cutoff")),
        ("2026-11-02T10:00:00Z", ["bug"], "", (Action.LINK, "tag:bug")),
        ("2024-01-10T10:00:00Z", ["billing"], "", (Action.IGNORE, "no_trigger_tag")),
        (
            "2024-01-10T10:00:00Z",
            ["bug"],
            "https://github.com/acme/app/issues/3",
            (Action.COMPLETE_LINK, "note_missing"),
        ),
    ],
)
def test_only_a_conversation_that_would_be_linked_is_held_back(
    created: str, tags: list[str], field: str, expected: tuple[Action, str]
) -> None:
    conv = parse_conversation(conversation(created, tags, field))
    decision = decide_link(conv, RULES, cutoff=SINCE)
    assert (decision.action, decision.reason) == expected
    assert decide_link(conv, RULES).action is not Action.HOLD, "no cut-off, no hold"


def test_held_back_beats_a_missing_field() -> None:
    data = conversation("2024-01-10T10:00:00Z", ["bug"])
    data["customFields"] = []
    conv = parse_conversation(data)
    assert decide_link(conv, RULES, cutoff=SINCE).action is Action.HOLD
    assert decide_link(conv, replace(RULES), cutoff=None).action is Action.MISCONFIGURED
