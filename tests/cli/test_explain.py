"""Every decision reason reads as one human line; the command-line parser documents its exit codes."""

from __future__ import annotations

import pytest

from bridge.cli.explain import REASONS, outcome_line, reason_sentence
from bridge.cli.main import EXIT_CODES, _parser
from bridge.linker import Outcome
from bridge.model import Conversation, CustomField
from bridge.settings import BridgeConfig

CONFIG = BridgeConfig(mailboxes=("ops@example.com", 2))
URL = "https://github.com/acme/app/issues/7"


def conversation(**changes: object) -> Conversation:
    base: dict[str, object] = {
        "id": 1287,
        "number": 1287,
        "mailbox_id": 2,
        "status": "active",
        "state": "published",
        "subject": "CSV export fails",
        "customer_email": "",
        "created_at": "2025-03-04T09:12:44Z",
        "updated_at": "2025-03-04T09:12:44Z",
        "closed_at": "",
        "threads": (),
        "custom_fields": (CustomField(7, "github_issue_url", ""),),
        "tags": ("billing",),
    }
    base.update(changes)
    return Conversation(**base)  # type: ignore[arg-type]


def test_a_non_matching_ticket_is_explained_in_one_line() -> None:
    line = outcome_line(1287, Outcome("ignore", "no_trigger_tag"), conversation(), CONFIG, dry_run=True)
    assert line == (
        "#1287 not linked: no_trigger_tag — it has none of the tags bug, feature_request, auto:status "
        "(its tags: billing)"
    )
    assert "\n" not in line


def test_the_keyword_scan_is_mentioned_when_it_is_on() -> None:
    from bridge.settings import KeywordScan

    config = BridgeConfig(keyword_scan=KeywordScan(True, ("crash",)))
    line = outcome_line(5, Outcome("ignore", "no_trigger_tag"), conversation(tags=()), config, dry_run=False)
    assert "none of the keywords crash" in line and "(its tags: (none))" in line


def test_a_dry_run_says_nothing_was_written_and_what_a_live_run_would_do() -> None:
    line = outcome_line(
        1287, Outcome("would_link", "tag:bug"), conversation(tags=("bug",)), CONFIG, dry_run=True
    )
    assert line.startswith(
        "#1287 would be linked: tag:bug — it carries the tag bug; nothing written (dry run)"
    )
    assert "create the GitHub issue, write github_issue_url, post the internal note" in line


def test_shadow_mode_without_dry_run_blames_the_flag() -> None:
    line = outcome_line(1287, Outcome("would_link", "tag:bug"), None, CONFIG, dry_run=False)
    assert "nothing written (autolink is off: shadow mode)" in line


def test_a_live_link_lists_its_writes_and_the_issue() -> None:
    outcome = Outcome("linked", "tag:bug", URL, ["create_issue", "set_custom_field", "add_note"])
    line = outcome_line(1287, outcome, None, CONFIG, dry_run=False)
    assert line == (
        "#1287 linked: tag:bug — it carries the tag bug; created the GitHub issue, wrote github_issue_url, "
        f"posted the internal note → {URL}"
    )


def test_an_already_linked_ticket_names_its_issue_once() -> None:
    conv = conversation(custom_fields=(CustomField(7, "github_issue_url", URL),))
    line = outcome_line(1287, Outcome("ignore", "already_linked", URL), conv, CONFIG, dry_run=True)
    assert line == f"#1287 already linked: already_linked — github_issue_url is already set to {URL}"


def test_the_ticket_number_is_shown_when_it_differs_from_the_id() -> None:
    line = outcome_line(40, Outcome("ignore", "spam"), conversation(id=40, number=1287), CONFIG, dry_run=True)
    assert line.startswith("#1287 (id 40) not linked: spam — it is marked as spam")


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_every_known_reason_has_a_sentence(reason: str) -> None:
    sentence = reason_sentence(reason, conversation(), CONFIG, URL)
    assert sentence and sentence != reason.replace("_", " ")
    assert "\n" not in sentence


def test_mailbox_and_field_reasons_name_the_mailbox() -> None:
    assert reason_sentence("mailbox_not_configured", conversation(mailbox_id=3), CONFIG) == (
        "mailbox 3 is not in [autolink] mailboxes (ops@example.com, 2)"
    )
    assert "mailbox 3 has no github_issue_url" in reason_sentence(
        "field_missing_in_mailbox", conversation(mailbox_id=3), CONFIG
    )


def test_keyword_and_unknown_reasons_still_read() -> None:
    assert reason_sentence("keyword:crash", None, CONFIG) == "its subject or first message contains 'crash'"
    assert reason_sentence("something_new", None, CONFIG) == "something new"


def test_the_top_level_help_documents_the_exit_codes() -> None:
    assert EXIT_CODES in _parser().format_help()


@pytest.mark.parametrize("command", ["check", "sync", "sweep", "serve"])
def test_every_sub_command_documents_the_exit_codes_in_help(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        _parser().parse_args([command, "--help"])
    assert stopped.value.code == 0
    text = capsys.readouterr().out
    assert "3  FreeScout or GitHub unreachable" in text and "2  usage error" in text
    assert ("--json" in text) is (command != "serve")
