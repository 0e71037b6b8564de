"""``sync`` and ``sweep`` run Direction A through ``Linker.reconcile``, against the local simulators."""

from __future__ import annotations

import json
import re

from tests.cli.conftest import mailbox_config
from tests.harness import Deployment

LIVE = {"FLAG_FREESCOUT_GITHUB_AUTOLINK": "true"}


def field_value(deployment: Deployment, conversation_id: int) -> str:
    fields = deployment.fs.api("GET", f"/conversations/{conversation_id}").get("customFields") or []
    return next((str(f["value"] or "") for f in fields if f["name"] == "github_issue_url"), "")


def test_sync_dry_run_explains_a_non_matching_ticket_in_one_line(deployment: Deployment) -> None:
    cid = deployment.fs.email(tags=["billing"], mailbox=2)["id"]
    result = deployment.cli("sync", str(cid), "--dry-run", **LIVE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"#{cid} not linked: no_trigger_tag — it has none of the tags bug, feature_request, auto:status "
        "(its tags: billing)\n"
    )


def test_sync_dry_run_on_a_matching_ticket_writes_nothing_even_with_the_flag_on(
    deployment: Deployment,
) -> None:
    cid = deployment.fs.email(tags=["bug"], mailbox=2)["id"]
    code, data = deployment.cli_json("sync", str(cid), "--dry-run", **LIVE)
    assert code == 0
    assert (data["decision"], data["reason"], data["writes"]) == ("would_link", "tag:bug", [])
    assert data["dry_run"] is True and data["autolink_enabled"] is False
    assert "nothing written (dry run)" in data["line"]
    assert deployment.gh.writes() == []
    assert field_value(deployment, cid) == ""


def test_sync_links_a_tagged_ticket_once(deployment: Deployment) -> None:
    cid = deployment.fs.email(tags=["bug"], mailbox=2)["id"]
    first = deployment.cli("sync", str(cid), **LIVE)
    assert first.returncode == 0, first.stderr
    url = field_value(deployment, cid)
    assert url.startswith("https://github.com/acme/app/issues/")
    assert first.stdout == (
        f"#{cid} linked: tag:bug — it carries the tag bug; created the GitHub issue, posted the internal note, "
        f"wrote github_issue_url → {url}\n"
    )
    again = deployment.cli("sync", str(cid), **LIVE)
    assert (
        again.stdout == f"#{cid} already linked: already_linked — github_issue_url is already set to {url}\n"
    )
    issues = deployment.gh.state()["repos"][0]["issues"]
    assert len(issues) == 1 and "freescout-linked" in {label["name"] for label in issues[0]["labels"]}


def test_sync_with_the_flag_off_is_shadow_mode(deployment: Deployment) -> None:
    cid = deployment.fs.email(tags=["feature_request"], mailbox=1)["id"]
    result = deployment.cli("sync", str(cid))
    assert result.returncode == 0
    assert "would be linked: tag:feature_request" in result.stdout
    assert "nothing written (autolink is off: shadow mode)" in result.stdout
    assert deployment.gh.writes() == []


def test_sync_in_a_mailbox_without_the_field_fails_with_exit_1(deployment: Deployment) -> None:
    deployment.configure(mailbox_config(()))  # every mailbox, including 3 (no github_issue_url field)
    cid = deployment.fs.email(tags=["bug"], mailbox=3)["id"]
    dry = deployment.cli("sync", str(cid), "--dry-run")
    assert dry.returncode == 1
    assert dry.stdout.startswith(
        f"#{cid} cannot be linked: field_missing_in_mailbox — mailbox 3 has no github_issue_url"
    )
    live = deployment.cli("sync", str(cid), **LIVE)
    assert live.returncode == 1
    assert (
        f"#{cid} cannot be linked: field_missing_in_mailbox — mailbox 3 has no github_issue_url"
        in live.stdout
    )
    assert deployment.gh.writes() == []


def test_sync_of_an_unknown_conversation_exits_1(deployment: Deployment) -> None:
    result = deployment.cli("sync", "424242", "--dry-run")
    assert result.returncode == 1
    assert result.stdout == "#424242 failed: FreeScout has no conversation with id 424242\n"


def test_sync_with_freescout_down_exits_3(deployment: Deployment) -> None:
    code, data = deployment.cli_json("sync", "1", "--dry-run", FREESCOUT_URL="http://127.0.0.1:9")
    assert code == 3 and data["reason"] == "freescout:connection_error"


def test_sync_without_settings_exits_2_and_names_them(deployment: Deployment) -> None:
    result = deployment.cli("sync", "1", GITHUB_REPOSITORY="")
    assert result.returncode == 2
    assert "GITHUB_REPOSITORY" in result.stdout and "freescout-bridge check" in result.stdout


def test_sync_closing_comments_once_on_the_linked_issue(deployment: Deployment) -> None:
    cid = deployment.fs.email(tags=["bug"], mailbox=2)["id"]
    assert deployment.cli("sync", str(cid), **LIVE).returncode == 0
    deployment.fs.post(f"/_sim/conversations/{cid}/agent-status", {"status": "closed", "userId": 3})
    closing = deployment.cli("sync", str(cid), "--closing", **LIVE)
    assert closing.returncode == 0, closing.stderr
    assert "closing comment handled: closed" in closing.stdout and "commented on the issue" in closing.stdout
    again = deployment.cli("sync", str(cid), "--closing", **LIVE)
    assert "already_commented" in again.stdout
    comments = deployment.gh.state()["repos"][0]["issues"][0]["comment_list"]
    assert len(comments) == 1


def test_sweep_dry_run_reports_and_writes_nothing(deployment: Deployment) -> None:
    ops = deployment.fs.email("CSV export fails", tags=["bug"], mailbox=1)["id"]
    support = deployment.fs.email("Dark mode, please", tags=["feature_request"], mailbox=2)["id"]
    deployment.fs.email(tags=["billing"], mailbox=2)
    result = deployment.cli("sweep", "--dry-run", **LIVE)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "sweep (dry run: nothing written): 2 candidate conversation(s)",
        "  would_link: 2",
        "  cut-off: none: every tagged conversation may be linked, however old",
    ]
    assert len(lines) == 5, "one line per conversation it would link"
    assert re.fullmatch(
        rf'  #{ops}  Ops  "CSV export fails"  \[bug\]  \d+ min  → would_link: tag:bug', lines[3]
    )
    assert re.fullmatch(
        rf'  #{support}  Support  "Dark mode, please"  \[feature_request\]  \d+ min  → would_link: '
        "tag:feature_request",
        lines[4],
    )
    assert deployment.gh.writes() == []


def test_sweep_links_the_candidates_of_one_mailbox(deployment: Deployment) -> None:
    ops = deployment.fs.email(tags=["bug"], mailbox=1)["id"]
    support = deployment.fs.email(tags=["bug"], mailbox=2)["id"]
    code, data = deployment.cli_json("sweep", "--mailbox", "ops@example.com", **LIVE)
    assert code == 0, data
    assert data["candidates"] == 1 and data["outcomes"] == {"linked": 1}
    assert list(data["issue_urls"]) == [str(ops)]
    assert field_value(deployment, support) == ""


def test_sweep_refuses_an_unknown_mailbox_with_exit_2(deployment: Deployment) -> None:
    result = deployment.cli("sweep", "--mailbox", "nobody@example.com")
    assert result.returncode == 2
    assert "unknown --mailbox: nobody@example.com" in result.stdout


def test_a_broken_app_key_is_a_settings_error_in_one_json_object(deployment: Deployment) -> None:
    """A GitHub App key that is not an RSA key stops the command before any call, exit 2, one JSON object."""
    deployment.fs.email(tags=["bug"], mailbox=2)
    app = {"GITHUB_ISSUE_BOT_TOKEN": "", "GITHUB_APP_ID": "4242", "GITHUB_APP_INSTALLATION_ID": "777"}
    code, data = deployment.cli_json("sweep", GITHUB_APP_PRIVATE_KEY="not a pem key", **app, **LIVE)
    assert code == 2
    assert "GITHUB_APP_PRIVATE_KEY is not a PEM RSA private key" in json.dumps(data)
    assert deployment.gh.requests() == []
