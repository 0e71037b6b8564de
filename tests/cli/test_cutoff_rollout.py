"""Switching on in front of a help desk full of old tagged tickets links only what the cut-off lets through.

Three tagged, unlinked conversations: two imported from 2020 and 2023, one from today. With
``link_since = 2025-01-01`` the doctor counts 2 held back, the dry run names every one with its reason,
a live sweep opens exactly one issue, a customer reply on an old one is held back too, and ``sync ID``
links an old one because the operator asked for it by name.
"""

from __future__ import annotations

import httpx

from tests.cli.old_tickets import configure_cutoff, old_conversation
from tests.cli.status_helpers import STATUS_TOKEN, status_web_process
from tests.cli.test_sync_sweep import field_value
from tests.harness import Deployment

LIVE = {"FLAG_FREESCOUT_GITHUB_AUTOLINK": "true"}


def help_desk(deployment: Deployment) -> tuple[int, int, int]:
    configure_cutoff(deployment)
    ancient = old_conversation(deployment, 2, ["bug"], "2020-03-04T09:12:44Z", subject="Ancient export bug")
    older = old_conversation(deployment, 1, ["feature_request"], "2023-06-01T08:00:00Z")
    fresh = deployment.fs.email("CSV export fails since today's release", tags=["bug"], mailbox=2)["id"]
    return ancient, older, fresh


def issues_opened(deployment: Deployment) -> int:
    return sum(w["method"] == "POST" and w["path"].endswith("/issues") for w in deployment.gh.writes())


def test_the_doctor_shows_the_cutoff_and_what_it_holds_back(deployment: Deployment) -> None:
    help_desk(deployment)
    result = deployment.cli("check")
    line = next(x for x in result.stdout.splitlines() if "link cut-off" in x)
    assert line.startswith(
        "[ok]   link cut-off: conversations created before 2025-01-01T00:00:00Z are held back "
        "(link_since 2025-01-01T00:00:00Z); 3 tagged unlinked conversation(s) (oldest "
    )
    assert line.endswith(" d), 2 held back, 1 the sweep would link")


def test_without_a_cutoff_the_doctor_says_how_many_would_be_linked(deployment: Deployment) -> None:
    help_desk(deployment)
    configure_cutoff(deployment, extra="")
    line = next(x for x in deployment.cli("check").stdout.splitlines() if "link cut-off" in x)
    assert "none: every tagged conversation may be linked, however old; 3 tagged unlinked" in line
    assert "0 held back, 3 the sweep would link; set [autolink] link_since" in line


def test_the_dry_run_names_every_conversation_and_the_live_sweep_links_only_new_ones(
    deployment: Deployment,
) -> None:
    ancient, older, fresh = help_desk(deployment)
    code, data = deployment.cli_json("sweep", "--dry-run", "--local", **LIVE)
    assert code == 0, data
    assert (data["candidates"], data["held_back"], data["outcomes"]) == (3, 2, {"would_link": 1})
    assert data["cutoff"].startswith("conversations created before 2025-01-01T00:00:00Z")
    by_id = {item["conversation_id"]: item for item in data["items"]}
    assert by_id[fresh] | {"age": "?"} == {
        "conversation_id": fresh,
        "mailbox_id": 2,
        "mailbox": "Support",
        "subject": "CSV export fails since today's release",
        "tags": ["bug"],
        "created_at": by_id[fresh]["created_at"],
        "age": "?",
        "outcome": "would_link",
        "reason": "tag:bug",
        "issue_url": "",
    }
    assert (by_id[ancient]["outcome"], by_id[ancient]["reason"]) == ("held_back", "created_before_cutoff")
    assert (by_id[older]["mailbox"], by_id[older]["tags"]) == ("Ops", ["feature_request"])
    assert by_id[ancient]["age"].endswith(" d") and by_id[ancient]["subject"] == "Ancient export bug"
    assert deployment.gh.writes() == []

    code, data = deployment.cli_json("sweep", "--local", **LIVE)
    assert code == 0, data
    assert (data["held_back"], data["outcomes"]) == (2, {"linked": 1})
    assert issues_opened(deployment) == 1
    assert field_value(deployment, fresh) == data["issue_urls"][str(fresh)]
    assert field_value(deployment, ancient) == "" and field_value(deployment, older) == ""


def test_a_customer_reply_on_an_old_ticket_is_held_back_and_sync_links_it_on_request(
    deployment: Deployment,
) -> None:
    ancient, _older, _fresh = help_desk(deployment)
    customer = {"email": "dana@example.com"}
    deployment.fs.api(
        "POST",
        f"/conversations/{ancient}/threads",
        {"type": "customer", "text": "Still broken!", "customer": customer},
    )
    raw, headers = deployment.signed_webhook(ancient, "convo.customer.reply.created")
    with status_web_process(deployment, **LIVE) as server:
        answer = httpx.post(
            f"{server.url}/api/webhooks/freescout/support",
            content=raw,
            headers=headers,
            timeout=10,
        )
    assert answer.status_code == 200
    assert answer.json() == {"outcome": "held_back", "reason": "created_before_cutoff", "issue_url": ""}
    assert issues_opened(deployment) == 0

    explained = deployment.cli("sync", str(ancient), "--dry-run", **LIVE)
    assert explained.returncode == 0, explained.stderr
    assert "would be linked: tag:bug" in explained.stdout
    assert (
        "(created before the cut-off: webhooks and the sweep hold it back; sync does as asked)"
        in explained.stdout
    )
    linked = deployment.cli("sync", str(ancient), **LIVE)
    assert linked.returncode == 0, linked.stderr
    assert issues_opened(deployment) == 1 and field_value(deployment, ancient)


def test_limit_caps_a_pass_oldest_first_and_defers_the_rest(deployment: Deployment) -> None:
    _ancient, _older, fresh = help_desk(deployment)
    newer = deployment.fs.email("Second new bug", tags=["bug"], mailbox=1)["id"]
    code, data = deployment.cli_json("sweep", "--dry-run", "--local", "--limit", "1", **LIVE)
    assert code == 0, data
    assert (data["outcomes"], data["deferred"], data["held_back"]) == ({"would_link": 1}, 1, 2)
    assert [i["conversation_id"] for i in data["items"] if i["outcome"] != "held_back"] == [fresh]
    text = deployment.cli("sweep", "--dry-run", "--local", "--limit", "1", **LIVE).stdout
    assert "  deferred by --limit: 1 (the next pass continues, oldest first)" in text
    assert f"#{newer} " not in text
    refused = deployment.cli("sweep", "--limit", "0")
    assert refused.returncode == 2 and "not a positive whole number" in refused.stderr


def test_a_limited_pass_through_the_web_process_shows_on_its_status_page(deployment: Deployment) -> None:
    _ancient, _older, fresh = help_desk(deployment)
    deployment.fs.email("Second new bug", tags=["bug"], mailbox=1)["id"]
    with status_web_process(deployment, **LIVE) as server:
        via = {"BRIDGE_URL": server.url, "BRIDGE_ADMIN_TOKEN": STATUS_TOKEN, **LIVE}
        code, data = deployment.cli_json("sweep", "--limit", "1", **via)
        assert code == 0, data
        assert (data["outcomes"], data["deferred"], data["held_back"]) == ({"linked": 1}, 1, 2)
        assert issues_opened(deployment) == 1
        bad = httpx.post(
            f"{server.url}/admin/sweep",
            json={"limit": 0},
            headers={"Authorization": f"Bearer {STATUS_TOKEN}"},
            timeout=10,
        )
        assert bad.status_code == 400 and "limit must be a positive whole number" in bad.json()["message"]
        page = httpx.get(
            f"{server.url}/status",
            params={"conversation": fresh},
            headers={"Authorization": f"Bearer {STATUS_TOKEN}"},
            timeout=10,
        ).text
    assert f"<td>sweep</td><td>sweep</td><td class='num'>{fresh}</td><td>linked</td><td>tag:bug</td>" in page
    assert "conversations created before 2025-01-01T00:00:00Z are held back" in page
    assert "(2 held back by the last sweep)" in page
