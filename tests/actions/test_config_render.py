"""Settings from the step env, and what the script writes and says (ticket HTML, annotations, summary)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bridge.actions.config import ConfigError, load_actions_config, parse_mailbox, secret_values
from bridge.actions.decide import IssueState
from bridge.actions.render import (
    Problem,
    Report,
    add_mask,
    annotation,
    confirm_note_html,
    explain,
    first_lines,
    subject,
    summary_markdown,
    ticket_html,
)
from bridge.actions.sync import run
from bridge.errors import PermanentUpstreamError, TransientUpstreamError, UpstreamError
from bridge.vocab import issue_marker
from tests.actions.payloads import ISSUE_URL, payload

ENV = {
    "GITHUB_REPOSITORY": "Codertocat/Hello-World",
    "GITHUB_TOKEN": "ghs_exampletoken",
    "FREESCOUT_URL": "https://help.example.com/",
    "FREESCOUT_API_KEY": "0123456789abcdef0123456789abcdef",
    "FREESCOUT_BOT_USER_ID": "9",
    "FREESCOUT_OPS_MAILBOX": "Ops@Example.com",
    "FREESCOUT_TICKET_CUSTOMER_EMAIL": "engineering@example.com",
}


def test_full_config_loads() -> None:
    cfg = load_actions_config(ENV, need_ticket=True)
    assert cfg.freescout_url == "https://help.example.com"
    assert cfg.github_api_url == "https://api.github.com"
    assert (cfg.bot_user_id, cfg.ops_mailbox, cfg.live) == (9, "ops@example.com", False)
    assert "0123456789abcdef" not in repr(cfg)


@pytest.mark.parametrize(
    ("flag", "live"),
    [("true", True), ("1", True), ("ON", True), ("yes", True), ("false", False), ("", False)],
)
def test_the_flag_words(flag: str, live: bool) -> None:
    env = {**ENV, "FLAG_FREESCOUT_GITHUB_AUTOLINK": flag}
    assert load_actions_config(env, need_ticket=False).live is live


def test_freescout_api_url_alias_with_api_suffix() -> None:
    env = {k: v for k, v in ENV.items() if k != "FREESCOUT_URL"} | {
        "FREESCOUT_API_URL": "https://help.example.com/api/"
    }
    assert load_actions_config(env, need_ticket=False).freescout_url == "https://help.example.com"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GITHUB_TOKEN", ""),
        ("FREESCOUT_URL", ""),
        ("FREESCOUT_URL", "help.example.com"),
        ("FREESCOUT_API_KEY", " "),
        ("FREESCOUT_BOT_USER_ID", "issue-bot"),
        ("FREESCOUT_OPS_MAILBOX", "ops"),
        ("FREESCOUT_TICKET_CUSTOMER_EMAIL", "nobody"),
        ("GITHUB_REPOSITORY", "just-a-name"),
    ],
)
def test_each_bad_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_actions_config({**ENV, name: value}, need_ticket=True)
    assert list(caught.value.problems) == [name]


def test_confirm_runs_do_not_need_mailbox_or_customer() -> None:
    env = {
        k: v for k, v in ENV.items() if k not in {"FREESCOUT_OPS_MAILBOX", "FREESCOUT_TICKET_CUSTOMER_EMAIL"}
    }
    assert load_actions_config(env, need_ticket=False).ops_mailbox is None
    with pytest.raises(ConfigError) as caught:
        load_actions_config(env, need_ticket=True)
    assert set(caught.value.problems) == {"FREESCOUT_OPS_MAILBOX", "FREESCOUT_TICKET_CUSTOMER_EMAIL"}


def test_all_problems_at_once_and_repository_from_payload() -> None:
    with pytest.raises(ConfigError) as caught:
        load_actions_config({}, need_ticket=False, payload_repository="o/r")
    assert set(caught.value.problems) == {
        "GITHUB_TOKEN",
        "FREESCOUT_URL",
        "FREESCOUT_API_KEY",
        "FREESCOUT_BOT_USER_ID",
    }


@pytest.mark.parametrize(
    ("value", "parsed"), [("3", 3), (" ops@x.io ", "ops@x.io"), ("ops", None), ("", None)]
)
def test_parse_mailbox(value: str, parsed: str | int | None) -> None:
    assert parse_mailbox(value) == parsed


def test_secret_values_to_mask() -> None:
    assert secret_values(ENV) == ["ghs_exampletoken", "0123456789abcdef0123456789abcdef"]
    assert secret_values({}) == []


# --- ticket and note HTML ---------------------------------------------------------------------------------

HOSTILE = IssueState(
    1,
    ISSUE_URL,
    "<img src=x onerror=alert(1)>  Crash\non save",
    "<script>alert(1)</script>\n"
    + issue_marker(5)
    + "\nline & more\n"
    + "\n".join(f"l{i}" for i in range(40)),
    ("customer-reported",),
    False,
    "2019-05-15T15:20:18Z",
)


def test_ticket_html_escapes_untrusted_text_and_links_the_issue() -> None:
    out = ticket_html(HOSTILE, "Codertocat/Hello-World", "customer-reported", "octo<b>")
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<img" not in out and "&lt;img" in out
    assert "line &amp; more" in out
    assert f'<a href="{ISSUE_URL}">Codertocat/Hello-World#1</a>' in out
    assert "@octo&lt;b&gt;" in out
    assert "[freescout-autolink] conversation=" not in out  # hidden comments are not quoted
    assert "l11" not in out and "…" in out  # only the first lines


def test_first_lines_is_bounded() -> None:
    assert first_lines("a\nb", lines=5) == "a\nb"
    assert first_lines("x" * 5000, chars=100).endswith("…")
    assert len(first_lines("x" * 5000, chars=100)) == 100
    assert first_lines("") == ""


def test_subject_is_one_line() -> None:
    assert subject(HOSTILE.title) == "<img src=x onerror=alert(1)> Crash on save"
    assert subject("  ") == "(untitled GitHub issue)"
    assert len(subject("t" * 400)) == 250


def test_confirm_note_carries_phrase_issue_url_and_no_markup_from_sender() -> None:
    out = confirm_note_html(HOSTILE, "Codertocat/Hello-World", "<i>x</i>")
    assert "Customer confirmation requested" in out and ISSUE_URL in out and "<i>" not in out


# --- workflow commands and the summary -------------------------------------------------------------------


def test_annotation_escaping() -> None:
    assert annotation("error", "50% done\nnext", "freescout-sync: A,B") == (
        "::error title=freescout-sync%3A A%2CB::50%25 done%0Anext"
    )
    assert add_mask("abc") == "::add-mask::abc"


@pytest.mark.parametrize(
    ("report", "expected", "code"),
    [
        (Report(outcome="skipped", reason="label `bug` is not handled"), ["nothing to do", "is off"], 0),
        (
            Report(
                outcome="created",
                live=True,
                issue="o/r#1",
                issue_url=ISSUE_URL,
                label="regression",
                links=[("FreeScout ticket", "https://h/conversation/4")],
                writes=["created ticket 4"],
            ),
            [
                "ticket created",
                f"[o/r#1]({ISSUE_URL})",
                "`regression`",
                "https://h/conversation/4",
                "**Wrote:**",
            ],
            0,
        ),
        (Report(outcome="would_create", writes=["create a ticket"]), ["dry run", "**Would write:**"], 0),
        (
            Report(outcome="failed", live=True, problems=[Problem("FREESCOUT_API_KEY", "refused")]),
            ["failed", "`FREESCOUT_API_KEY`: refused"],
            1,
        ),
        (Report(outcome="failed", problems=[Problem("FREESCOUT_API_KEY", "refused")]), ["To fix"], 0),
    ],
)
def test_summary_and_exit_code(report: Report, expected: list[str], code: int) -> None:
    text = summary_markdown(report)
    for part in expected:
        assert part in text
    assert report.exit_code == code


@pytest.mark.parametrize(
    ("error", "variable"),
    [
        (PermanentUpstreamError("freescout", "list_mailboxes", "http_401", status=401), "FREESCOUT_API_KEY"),
        (
            PermanentUpstreamError("freescout", "mailbox_custom_fields", "http_404", status=404),
            "FREESCOUT_OPS_MAILBOX",
        ),
        (PermanentUpstreamError("freescout", "get_user", "http_404", status=404), "FREESCOUT_BOT_USER_ID"),
        (PermanentUpstreamError("freescout", "add_thread", "http_400", status=400), "FREESCOUT_BOT_USER_ID"),
        (PermanentUpstreamError("freescout", "list_mailboxes", "http_404", status=404), "FREESCOUT_URL"),
        (TransientUpstreamError("freescout", "list_mailboxes", "connection_error"), "FREESCOUT_URL"),
        (PermanentUpstreamError("github", "get_issue", "http_401", status=401), "GITHUB_TOKEN"),
        (PermanentUpstreamError("github", "create_comment", "http_403", status=403), "permissions"),
        (PermanentUpstreamError("github", "get_issue", "http_404", status=404), "GITHUB_REPOSITORY"),
        (TransientUpstreamError("github", "get_issue", "http_502", status=502), "GITHUB_API_URL"),
    ],
)
def test_explain_names_the_setting(error: UpstreamError, variable: str) -> None:
    problem = explain(error)
    assert problem.variable == variable
    assert variable in problem.message or variable == "permissions"


# --- the exit path, in process (no I/O happens for events the script ignores) --------------------------


def test_run_in_process_for_an_ignored_event(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload()), encoding="utf-8")
    summary = tmp_path / "summary.md"
    out = io.StringIO()
    env = {
        **ENV,
        "GITHUB_EVENT_NAME": "issues",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    assert run(env, out) == 0
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["::add-mask::ghs_exampletoken", "::add-mask::0123456789abcdef0123456789abcdef"]
    assert lines[2].startswith("freescout-sync: outcome=skipped live=false")
    assert "label `bug` is not one of" in summary.read_text(encoding="utf-8")


def test_run_survives_an_unwritable_summary(tmp_path: Path) -> None:
    out = io.StringIO()
    env = {
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_EVENT_PATH": "/nonexistent",
        "GITHUB_STEP_SUMMARY": str(tmp_path),
    }
    assert run(env, out) == 0  # a dry run: the unreadable payload is a warning
    assert "::warning title=freescout-sync%3A GITHUB_EVENT_PATH::" in out.getvalue()
    assert "cannot write the step summary" in out.getvalue()
