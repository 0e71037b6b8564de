"""``python -m bridge.actions.sync`` end to end, against the FreeScout and GitHub simulators.

Every test asserts what each side received. Secrets and the issue body are checked for leaks on every run
(``Harness.run``).
"""

from __future__ import annotations

from typing import Any

import pytest

from bridge.vocab import issue_marker
from tests.actions.conftest import BOT, CUSTOMER, OPS_FIELD_ID, OPS_MAILBOX_ID, Harness
from tests.actions.payloads import ISSUE_URL, labeled, payload

CREATE = ("POST", "/api/conversations")
COMMENT = ("POST", "/repos/Codertocat/Hello-World/issues/1/comments")


def tags_put(h: Harness) -> list[list[str]]:
    return [
        r["json"]["tags"] for r in h.fs_requests() if r["method"] == "PUT" and r["path"].endswith("/tags")
    ]


def created(h: Harness) -> list[dict[str, Any]]:
    return [r["json"] for r in h.fs_requests() if (r["method"], r["path"]) == CREATE]


def sentinels(h: Harness) -> list[str]:
    return [c for c in h.comments() if c.startswith("[freescout-autolink] FreeScout ticket: ")]


# --- the three labels --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "tags"),
    [
        ("customer-reported", ["_from_github", "customer-reported"]),
        ("regression", ["_from_github", "bug", "regression"]),
    ],
)
def test_ticket_label_files_one_ticket_tags_it_and_comments(h: Harness, label: str, tags: list[str]) -> None:
    h.seed_issue(labels=[label])
    result = h.run(labeled(label))
    assert result.code == 0, result.stdout
    # FreeScout: one create, with the field set and no email-sending thread; then the tags.
    (body,) = created(h)
    assert body["mailboxId"] == OPS_MAILBOX_ID and body["subject"] == "Export crashes on save"
    assert body["imported"] is True and body["customer"] == {"email": CUSTOMER}
    assert body["customFields"] == [{"id": OPS_FIELD_ID, "value": ISSUE_URL}]
    assert [t["type"] for t in body["threads"]] == ["note"] and body["threads"][0]["user"] == BOT
    note = body["threads"][0]["text"]
    assert ISSUE_URL in note and "&lt;script&gt;" in note and "<script>" not in note
    (conversation,) = h.conversations()
    assert tags_put(h) == [tags]
    assert h.fs_writes() == [CREATE, ("PUT", f"/api/conversations/{conversation['id']}/tags")]
    # GitHub: the fresh issue, every comment page, then exactly one sentinel comment.
    ticket = f"{h.fs_url}/conversation/{conversation['id']}"
    assert h.gh_writes() == [COMMENT]
    assert sentinels(h) == [f"[freescout-autolink] FreeScout ticket: {ticket}"]
    assert {r["path"] for r in h.gh_requests() if r["method"] == "GET"} == {
        "/repos/Codertocat/Hello-World/issues/1",
        "/repos/Codertocat/Hello-World/issues/1/comments",
    }
    assert "### FreeScout sync: ticket created" in result.summary and ticket in result.summary
    assert f"`{label}`" in result.summary and "live" in result.summary
    assert [c["name"] for c in conversation["_embedded"]["tags"]] == tags


def test_org_payload_works_the_same(h: Harness) -> None:
    h.seed_issue(labels=["customer-reported"])
    result = h.run(labeled(name="issues.labeled.org.json"))
    assert result.code == 0 and len(created(h)) == 1 and len(sentinels(h)) == 1


def test_needs_confirm_linked_by_sentinel_posts_one_note(h: Harness) -> None:
    ticket = h.seed_conversation(mailbox_id=OPS_MAILBOX_ID)
    sentinel = f"[freescout-autolink] FreeScout ticket: {h.fs_url}/conversation/{ticket}"
    h.seed_issue(labels=["needs-customer-confirm"], comments=["looks bad", sentinel])
    first = h.run(labeled("needs-customer-confirm", sender="octo-engineer"))
    assert first.code == 0, first.stdout
    (note,) = [r["json"] for r in h.fs_requests() if r["method"] == "POST"]
    assert note["type"] == "note" and note["user"] == BOT
    assert ISSUE_URL in note["text"] and "Customer confirmation requested" in note["text"]
    assert "@octo-engineer" in note["text"]
    assert h.fs_writes() == [("POST", f"/api/conversations/{ticket}/threads")]
    assert h.gh_writes() == []
    assert "customer confirmation requested" in first.summary and f"/conversation/{ticket}" in first.summary
    # A re-run (or the label added again) finds the note in fresh threads and posts nothing.
    second = h.run(labeled("needs-customer-confirm"))
    assert second.code == 0 and "already has the confirmation request" in second.summary
    assert h.fs_writes() == [("POST", f"/api/conversations/{ticket}/threads")]


def test_needs_confirm_linked_by_direction_a_marker(h: Harness) -> None:
    ticket = h.seed_conversation(mailbox_id=2)
    body = f"{issue_marker(ticket)}\n\n- **FreeScout ticket:** #{ticket}"
    h.seed_issue(labels=["freescout-linked", "needs-customer-confirm"], body=body)
    result = h.run(labeled("needs-customer-confirm", labels=["freescout-linked", "needs-customer-confirm"]))
    assert result.code == 0, result.stdout
    assert h.fs_writes() == [("POST", f"/api/conversations/{ticket}/threads")]
    assert h.gh_writes() == [] and "issue body marker" in result.summary


def test_needs_confirm_without_a_link_does_nothing_and_says_so(h: Harness) -> None:
    h.seed_issue(labels=["needs-customer-confirm"], comments=["no link here"])
    result = h.run(labeled("needs-customer-confirm"))
    assert result.code == 0
    assert "no FreeScout ticket is linked" in result.summary and "nothing to do" in result.summary
    assert h.fs_requests() == [] and h.gh_writes() == []


# --- nothing to do: other labels, pull requests, dry runs ---------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (payload(), "label `bug` is not one of"),
        (labeled("enhancement"), "label `enhancement` is not one of"),
        (labeled(pull_request=True), "pull requests are not synced"),
        (payload("issues.opened.json"), "is not `labeled`"),
    ],
)
def test_ignored_events_touch_nothing(h: Harness, data: dict[str, Any], reason: str) -> None:
    h.seed_issue(labels=["bug"])
    result = h.run(data)
    assert result.code == 0 and reason in result.summary and "nothing to do" in result.summary
    assert h.fs_requests() == [] and h.gh_requests() == []


def test_other_event_names_touch_nothing(h: Harness) -> None:
    result = h.run(labeled(), GITHUB_EVENT_NAME="push")
    assert result.code == 0 and "is not `issues`" in result.summary
    assert h.fs_requests() == [] and h.gh_requests() == []


@pytest.mark.parametrize("flag", [None, "false", "0", "off"])
def test_flag_off_is_a_dry_run_reads_only(h: Harness, flag: str | None) -> None:
    h.seed_issue(labels=["customer-reported"])
    result = h.run(labeled(), FLAG_FREESCOUT_GITHUB_AUTOLINK=flag)
    assert result.code == 0
    assert h.fs_writes() == [] and h.gh_writes() == []
    assert {r["method"] for r in h.fs_requests()} == {"GET"} and h.gh_requests()
    assert "dry run" in result.summary and "Would write" in result.summary
    assert "create a ticket in mailbox Ops" in result.summary


def test_flag_off_needs_confirm_reads_only(h: Harness) -> None:
    ticket = h.seed_conversation()
    h.seed_issue(labels=["needs-customer-confirm"], body=issue_marker(ticket))
    result = h.run(labeled("needs-customer-confirm"), FLAG_FREESCOUT_GITHUB_AUTOLINK="no")
    assert result.code == 0 and h.fs_writes() == [] and h.gh_writes() == []
    assert f"internal note on ticket {ticket}" in result.summary


# --- loop guards and exactly one ticket --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "reason"),
    [
        ({"labels": ["customer-reported", "freescout-linked"]}, "carries `freescout-linked`"),
        (
            {"labels": ["customer-reported"], "body": issue_marker(1287) + "\nfrom support"},
            "conversation 1287",
        ),
        ({"labels": ["bug"]}, "no longer on the issue"),
    ],
)
def test_guards_on_fresh_state_file_nothing(h: Harness, seed: dict[str, Any], reason: str) -> None:
    h.seed_issue(**seed)
    result = h.run(labeled("customer-reported"))  # the payload claims only customer-reported
    assert result.code == 0 and reason in result.summary
    assert h.fs_requests() == [] and h.gh_writes() == []


def test_sentinel_on_the_second_comment_page_blocks_a_ticket(h: Harness) -> None:
    filler = [f"comment {i}" for i in range(100)]
    h.seed_issue(
        labels=["regression"], comments=[*filler, "[freescout-autolink] FreeScout ticket: x/conversation/5"]
    )
    result = h.run(labeled("regression"))
    assert result.code == 0 and "already filed" in result.summary
    pages = [r["query"].get("page") for r in h.gh_requests() if r["path"].endswith("/comments")]
    assert pages == [None, "2"]
    assert h.fs_requests() == [] and h.gh_writes() == []


def test_both_ticket_labels_and_reruns_give_exactly_one_ticket(h: Harness) -> None:
    h.seed_issue(labels=["customer-reported", "regression"])
    both = ["customer-reported", "regression"]
    results = [
        h.run(labeled("customer-reported", labels=both)),
        h.run(labeled("regression", labels=both)),
        h.run(labeled("customer-reported", labels=both)),  # "Re-run job"
    ]
    assert [r.code for r in results] == [0, 0, 0]
    assert len(created(h)) == 1 and len(h.conversations()) == 1 and len(sentinels(h)) == 1
    assert tags_put(h) == [["_from_github", "customer-reported", "bug", "regression"]]
    assert ["ticket created" in results[0].summary] + ["already filed" in r.summary for r in results[1:]] == [
        True,
        True,
        True,
    ]


def test_comment_failure_then_rerun_finishes_the_same_ticket(h: Harness) -> None:
    h.seed_issue(labels=["customer-reported"])
    h.gh_fault(method="POST", path="/comments$", kind="status", status=502, times=0)
    failed = h.run(labeled())
    assert failed.code == 1 and any("GITHUB_API_URL" in e for e in failed.errors())
    assert len(created(h)) == 1 and sentinels(h) == []
    h.clear_gh_faults()
    rerun = h.run(labeled())
    assert rerun.code == 0, rerun.stdout
    assert "earlier ticket found and finished" in rerun.summary
    assert len(created(h)) == 1 and len(h.conversations()) == 1
    ticket = h.conversations()[0]["id"]
    assert sentinels(h) == [f"[freescout-autolink] FreeScout ticket: {h.fs_url}/conversation/{ticket}"]
    assert tags_put(h) == [["_from_github", "customer-reported"], ["_from_github", "customer-reported"]]


def test_lost_comment_response_is_found_not_reposted(h: Harness) -> None:
    h.seed_issue(labels=["customer-reported"])
    h.gh_fault(method="POST", path="/comments$", kind="lost_response", times=1)
    result = h.run(labeled())
    assert result.code == 0, result.stdout
    assert len(sentinels(h)) == 1 and h.gh_writes() == [COMMENT]
    assert len(created(h)) == 1 and len(tags_put(h)) == 1


def test_lost_create_response_is_found_not_filed_twice(h: Harness) -> None:
    h.seed_issue(labels=["regression"])
    h.fs.fault(method="POST", path=r"^/api/conversations$", kind="lost_response", times=1)
    result = h.run(labeled("regression"))
    assert result.code == 0, result.stdout
    assert len(created(h)) == 1 and len(h.conversations()) == 1 and len(sentinels(h)) == 1
    assert tags_put(h) == [["_from_github", "bug", "regression"]]


# --- permanent errors name what to fix ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "variable", "extra"),
    [
        ({"FREESCOUT_API_KEY": "wrong-key-0000"}, "FREESCOUT_API_KEY", "401"),
        ({"FREESCOUT_OPS_MAILBOX": "nobody@example.com"}, "FREESCOUT_OPS_MAILBOX", "nobody@example.com"),
        ({"FREESCOUT_OPS_MAILBOX": "77"}, "FREESCOUT_OPS_MAILBOX", "77"),
        ({"FREESCOUT_OPS_MAILBOX": "sales@example.com"}, "FREESCOUT_OPS_MAILBOX", "github_issue_url"),
        ({"FREESCOUT_BOT_USER_ID": "999"}, "FREESCOUT_BOT_USER_ID", "999"),
        ({"GITHUB_TOKEN": "not-the-token"}, "GITHUB_TOKEN", "401"),
        ({"FREESCOUT_API_KEY": None}, "FREESCOUT_API_KEY", "secret"),
        ({"FREESCOUT_TICKET_CUSTOMER_EMAIL": None}, "FREESCOUT_TICKET_CUSTOMER_EMAIL", "email"),
    ],
)
def test_permanent_errors_fail_the_step_naming_the_setting(
    h: Harness, overrides: dict[str, str | None], variable: str, extra: str
) -> None:
    h.seed_issue(labels=["customer-reported"])
    result = h.run(labeled(), **overrides)
    assert result.code == 1
    (error,) = result.errors()
    assert error.startswith(f"::error title=freescout-sync%3A {variable}::")
    assert extra in error
    assert "### FreeScout sync: failed" in result.summary and f"`{variable}`" in result.summary
    assert h.fs_writes() == [] and h.gh_writes() == []


def test_dry_run_reports_problems_as_warnings_and_passes(h: Harness) -> None:
    h.seed_issue(labels=["customer-reported"])
    result = h.run(labeled(), FREESCOUT_API_KEY="wrong-key-0000", FLAG_FREESCOUT_GITHUB_AUTOLINK=None)
    assert result.code == 0 and result.errors() == []
    (warning,) = result.warnings()
    assert "FREESCOUT_API_KEY" in warning and "dry run" in result.summary
    assert h.fs_writes() == [] and h.gh_writes() == []


def test_unreadable_event_file_is_named(h: Harness, tmp_path: Any) -> None:
    result = h.run(labeled(), GITHUB_EVENT_PATH=str(tmp_path / "missing.json"))
    assert result.code == 1 and "GITHUB_EVENT_PATH" in result.errors()[0]
    assert h.fs_requests() == [] and h.gh_requests() == []


def test_confirm_label_added_with_a_ticket_label_is_not_lost(h: Harness) -> None:
    """Both labels at once: the confirm run may come first and find no ticket; the ticket run asks."""
    both = ["customer-reported", "needs-customer-confirm"]
    h.seed_issue(labels=both)
    early = h.run(labeled("needs-customer-confirm", labels=both))
    assert early.code == 0 and "no FreeScout ticket is linked" in early.summary and h.fs_requests() == []
    filed = h.run(labeled("customer-reported", labels=both))
    assert filed.code == 0, filed.stdout
    (ticket,) = [c["id"] for c in h.conversations()]
    again = h.run(labeled("needs-customer-confirm", labels=both))  # a re-run of the confirm job
    assert again.code == 0 and "already has the confirmation request" in again.summary
    assert h.fs_writes() == [
        CREATE,
        ("PUT", f"/api/conversations/{ticket}/tags"),
        ("POST", f"/api/conversations/{ticket}/threads"),
    ]
    (note,) = [r["json"] for r in h.fs_requests() if r["path"].endswith("/threads")]
    assert note["type"] == "note" and "Customer confirmation requested" in note["text"]
    assert len(sentinels(h)) == 1


def test_secrets_are_masked_first_and_never_printed(h: Harness) -> None:
    """``Harness.run`` checks every run for leaks; this one spells the rule out on a failing live run."""
    h.seed_issue(labels=["customer-reported"])
    result = h.run(labeled(), FREESCOUT_API_KEY="k-9d8c7b6a5f4e3d2c1b0a")
    assert result.stdout.splitlines()[:2] == [
        "::add-mask::gh-sim-token",
        "::add-mask::k-9d8c7b6a5f4e3d2c1b0a",
    ]
    assert result.stdout.count("k-9d8c7b6a5f4e3d2c1b0a") == 1 and result.stdout.count("gh-sim-token") == 1
    assert result.code == 1 and "FREESCOUT_API_KEY" in result.errors()[0]
    keys = {r["headers"].get("x-freescout-api-key") for r in h.fs_requests()}
    assert keys <= {"k-9d8c7b6a5f4e3d2c1b0a", "<redacted>"}  # the key went to FreeScout, in the header only
    assert all("api_key" not in r["query"] for r in h.fs_requests())
