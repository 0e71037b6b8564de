"""The doctor's verdicts as pure functions over facts: every failure names its problem and its fix."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.cli.doctor import (
    OK,
    WEBHOOK_EVENTS,
    Answer,
    Check,
    Exit,
    Facts,
    MailboxFacts,
    evaluate,
    exit_code,
    label_style,
    wanted_labels,
    webhook_urls,
)
from bridge.criteria import CONVERSATION_EVENTS

ALL_LABELS = (
    "freescout-linked",
    "bug",
    "enhancement",
    "customer-reported",
    "regression",
    "needs-customer-confirm",
)


def healthy(**changes: object) -> Facts:
    """Facts of a deployment where everything passes."""
    facts = Facts(
        config_path="config/bridge.toml",
        autolink_enabled=True,
        routes=("ops", "support"),
        public_url="https://bridge.example.com",
        github_repository="acme/app",
        freescout=OK,
        mailboxes=(
            MailboxFacts("ops@example.com", 1, "Ops", 12),
            MailboxFacts("support@example.com", 2, "Support", 7),
        ),
        bot_user_id=9,
        bot_user=OK,
        bot_user_name="Issue Bot",
        github=OK,
        repo={"full_name": "acme/app", "has_issues": True, "permissions": {"push": True, "pull": True}},
        labels_wanted=ALL_LABELS,
        labels_present=frozenset(ALL_LABELS),
        labels_answer=OK,
    )
    return replace(facts, **changes)  # type: ignore[arg-type]


def failing(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.ok]


def only_failure(facts: Facts) -> Check:
    failures = failing(evaluate(facts))
    assert len(failures) == 1, failures
    return failures[0]


def test_a_healthy_deployment_passes_every_check_and_exits_0() -> None:
    checks = evaluate(healthy())
    assert failing(checks) == []
    assert exit_code(checks) is Exit.OK
    names = [c.name for c in checks]
    assert names[:4] == ["config file", "environment", "autolink flag", "freescout api"]
    assert "mailbox ops@example.com" in names and "bot user 9" in names


def test_each_mailbox_reports_the_id_of_its_link_field() -> None:
    details = {c.name: c.detail for c in evaluate(healthy())}
    assert details["mailbox ops@example.com"] == "Ops (id 1): github_issue_url is custom field id 12"
    assert details["mailbox support@example.com"] == "Support (id 2): github_issue_url is custom field id 7"


def test_a_mailbox_without_the_field_is_named_with_how_to_add_it() -> None:
    facts = healthy(mailboxes=(MailboxFacts("1", 1, "Ops", 12), MailboxFacts("3", 3, "Sales", None)))
    check = only_failure(facts)
    assert check.name == "mailbox 3"
    assert check.detail == "Sales (id 3) has no github_issue_url custom field"
    assert "Sales → Custom Fields" in check.fix and "Single Line field named github_issue_url" in check.fix
    assert exit_code(evaluate(facts)) is Exit.FAILED


def test_a_configured_mailbox_freescout_does_not_have_is_named() -> None:
    check = only_failure(healthy(mailboxes=(MailboxFacts("typo@example.com", None),)))
    assert check.detail == "FreeScout has no such mailbox"
    assert "typo@example.com" in check.fix and "[autolink] mailboxes" in check.fix


def test_an_inactive_custom_fields_module_says_to_activate_it() -> None:
    answer = Answer(False, "http_400", 400, "check the modules")
    check = only_failure(healthy(mailboxes=(MailboxFacts("1", 1, "Ops", None, answer),)))
    assert "Custom Fields module" in check.fix


def test_a_wrong_api_key_names_the_variable_and_skips_what_depends_on_it() -> None:
    facts = healthy(freescout=Answer(False, "http_401", 401, "wrong key"), mailboxes=None, bot_user=None)
    checks = evaluate(facts)
    api = next(c for c in checks if c.name == "freescout api")
    assert not api.ok and "401" in api.detail and "FREESCOUT_API_KEY" in api.fix
    skipped = [c for c in failing(checks) if c.detail.startswith("not checked")]
    assert {c.name for c in skipped} == {"mailboxes", "bot user 9"}
    assert exit_code(checks) is Exit.FAILED


def test_an_unreachable_upstream_exits_3() -> None:
    facts = healthy(
        freescout=Answer(False, "connection_error", unreachable=True), mailboxes=None, bot_user=None
    )
    checks = evaluate(facts)
    assert exit_code(checks) is Exit.UNREACHABLE
    api = next(c for c in checks if c.name == "freescout api")
    assert "FREESCOUT_URL" in api.fix and "reachable" in api.fix


def test_missing_settings_are_listed_one_per_line_and_exit_2() -> None:
    facts = Facts(
        config_path="config/bridge.toml",
        settings_problems={
            "FREESCOUT_API_KEY": "FREESCOUT_API_KEY",
            "GITHUB_REPOSITORY": "GITHUB_REPOSITORY",
        },
    )
    checks = evaluate(facts)
    env = [c for c in checks if c.name == "environment"]
    assert [c.detail for c in env] == [
        "missing or invalid: FREESCOUT_API_KEY",
        "missing or invalid: GITHUB_REPOSITORY",
    ]
    assert "API & Webhooks" in env[0].fix and "owner/repo" in env[1].fix
    assert exit_code(checks) is Exit.USAGE
    assert all(c.name in ("config file", "environment") for c in checks), "no upstream check without settings"


def test_a_broken_config_file_fails_with_its_parse_error() -> None:
    facts = Facts(config_path="bad.toml", config_error="BRIDGE_CONFIG bad.toml does not parse: line 2")
    check = evaluate(facts)[0]
    assert (check.name, check.ok) == ("config file", False)
    assert "does not parse" in check.detail
    assert exit_code(evaluate(facts)) is Exit.USAGE


def test_a_missing_bot_user_says_how_to_create_one() -> None:
    check = only_failure(healthy(bot_user=Answer(False, "http_404", 404)))
    assert check.name == "bot user 9" and "FREESCOUT_BOT_USER_ID" in check.fix


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, "wrong or expired"),
        (404, "GITHUB_REPOSITORY"),
        (403, "Issues read/write"),
        (422, "installation"),
    ],
)
def test_github_refusals_map_to_a_fix(status: int, words: str) -> None:
    facts = healthy(
        github=Answer(False, f"http_{status}", status), repo=None, labels_present=None, labels_answer=None
    )
    checks = failing(evaluate(facts))
    assert words in checks[0].fix
    assert {c.name for c in checks} == {
        "github repository acme/app",
        "github issues permission",
        "github labels",
    }


def test_read_only_access_fails_the_permission_check() -> None:
    check = only_failure(healthy(repo={"permissions": {"pull": True, "push": False, "triage": False}}))
    assert check.name == "github issues permission" and "read-only" in check.detail


def test_triage_access_passes_with_a_caution_about_labels() -> None:
    checks = evaluate(healthy(repo={"permissions": {"triage": True, "push": False}}))
    perm = next(c for c in checks if c.name == "github issues permission")
    assert perm.ok and "labels" in perm.detail


def test_unknown_token_permissions_pass_but_say_what_is_not_known() -> None:
    checks = evaluate(healthy(repo={"full_name": "acme/app"}))
    perm = next(c for c in checks if c.name == "github issues permission")
    assert perm.ok and "Issues: Read and write" in perm.detail


def test_a_classic_token_without_repo_scope_fails() -> None:
    check = only_failure(healthy(repo={}, oauth_scopes=("gist",)))
    assert "repo scope" in check.detail


def test_disabled_issues_fail() -> None:
    check = only_failure(healthy(repo={"has_issues": False, "permissions": {"push": True}}))
    assert "disabled" in check.detail


def test_missing_labels_are_listed_and_fixed_by_check_fix() -> None:
    check = only_failure(healthy(labels_present=frozenset({"bug"})))
    assert (
        check.detail
        == "missing: freescout-linked, enhancement, customer-reported, regression, needs-customer-confirm"
    )
    assert "check --fix" in check.fix


def test_labels_compare_case_insensitively_like_github() -> None:
    present = frozenset(n.lower() for n in ALL_LABELS)
    facts = healthy(labels_wanted=("Bug", *ALL_LABELS[1:]), labels_present=present)
    assert failing(evaluate(facts)) == []


def test_labels_created_by_fix_pass_and_are_reported() -> None:
    checks = evaluate(healthy(labels_created=("regression",)))
    labels = next(c for c in checks if c.name == "github labels")
    assert labels.ok and "created now: regression" in labels.detail


def test_a_label_that_could_not_be_created_fails() -> None:
    check = only_failure(healthy(labels_created=(), label_failures={"regression": "http_403"}))
    assert "regression: http_403" in check.detail


def test_wanted_labels_are_the_loop_guard_the_mapped_tags_and_direction_b() -> None:
    assert wanted_labels({"bug": "bug", "feature_request": "enhancement", "crash": "Bug"}) == ALL_LABELS
    assert label_style("freescout-linked")[0] == "0e8a16"
    assert len(label_style("some-mapped-label")[0]) == 6


def test_webhook_urls_join_the_public_url_and_every_route() -> None:
    assert webhook_urls("https://bridge.example.com/", ("ops", "support")) == [
        "https://bridge.example.com/api/webhooks/freescout/ops",
        "https://bridge.example.com/api/webhooks/freescout/support",
    ]


def test_the_webhook_events_are_exactly_the_events_the_bridge_handles() -> None:
    assert set(WEBHOOK_EVENTS) == CONVERSATION_EVENTS
    assert len(WEBHOOK_EVENTS) == len(set(WEBHOOK_EVENTS))


def test_the_flag_state_is_reported_without_failing() -> None:
    flag = next(c for c in evaluate(healthy(autolink_enabled=False)) if c.name == "autolink flag")
    assert flag.ok and "shadow mode" in flag.detail and "FLAG_FREESCOUT_GITHUB_AUTOLINK=true" in flag.detail


def test_webhook_urls_too_long_for_freescout_fail() -> None:
    check = only_failure(healthy(public_url="https://bridge.example.com/" + "x" * 240))
    assert "255" in check.detail


def test_a_public_url_that_is_not_http_fails() -> None:
    check = only_failure(healthy(public_url="bridge.example.com"))
    assert "--public-url https://" in check.fix


def test_without_a_public_url_the_paths_are_shown_and_the_check_passes() -> None:
    webhooks = next(c for c in evaluate(healthy(public_url="")) if c.name == "freescout webhooks")
    assert (
        webhooks.ok and "/api/webhooks/freescout/ops" in webhooks.detail and "--public-url" in webhooks.detail
    )


def test_exit_code_prefers_settings_then_unreachable_then_failed() -> None:
    def check(code: Exit) -> Check:
        return Check("x", False, "d", "f", code)

    assert exit_code([check(Exit.FAILED), check(Exit.UNREACHABLE)]) is Exit.UNREACHABLE
    assert exit_code([check(Exit.UNREACHABLE), check(Exit.USAGE)]) is Exit.USAGE
    assert exit_code([Check("x", True, "d")]) is Exit.OK


def test_every_failure_carries_a_fix() -> None:
    broken = healthy(
        freescout=Answer(False, "http_500", 500, unreachable=True),
        mailboxes=None,
        bot_user=None,
        github=Answer(False, "http_401", 401),
        repo=None,
        labels_present=None,
        labels_answer=None,
        public_url="ftp://x",
    )
    for check in failing(evaluate(broken)):
        assert check.fix, check


def test_an_absent_default_config_file_means_defaults() -> None:
    check = evaluate(healthy(config_absent=True))[0]
    assert check.ok and check.detail == "config/bridge.toml not found: defaults apply"
