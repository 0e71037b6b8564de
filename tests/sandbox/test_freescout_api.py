"""The local FreeScout simulator's REST API follows docs/upstream/freescout.md section 4."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox import freescout_sim
from tests.sandbox.conftest import API_KEY, FAST_RETRIES

CONVERSATION_KEYS = {
    "id", "number", "threadsCount", "type", "folderId", "status", "state", "subject", "preview", "mailboxId",
    "assignee", "createdBy", "createdAt", "updatedAt", "closedBy", "closedByUser", "closedAt", "userUpdatedAt",
    "customerWaitingSince", "source", "cc", "bcc", "customer", "_embedded", "customFields",
}  # fmt: skip
THREAD_KEYS = {
    "id", "type", "status", "state", "action", "body", "source", "customer", "createdBy", "assignedTo",
    "to", "cc", "bcc", "createdAt", "openedAt", "_embedded",
}  # fmt: skip


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 4, 9, 12, 44, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fs_config(clock: FakeClock) -> freescout_sim.FreeScoutSimConfig:
    return freescout_sim.FreeScoutSimConfig(retry_delays=FAST_RETRIES, clock=clock)


def email(control: httpx.Client, mailbox: int = 2, **extra: Any) -> dict[str, Any]:
    body = {
        "mailboxId": mailbox,
        "subject": "CSV export fails with error 500",
        "body": "<div>Hi, every CSV export ends with an error 500.</div>",
        "customerEmail": "dana@example.com",
        "customerFirstName": "Dana",
        **extra,
    }
    response = control.post("/_sim/conversations", json=body)
    assert response.status_code == 201
    conv: dict[str, Any] = response.json()
    return conv


def test_missing_or_wrong_api_key_is_401_not_authorized(freescout: Any, fs_control: httpx.Client) -> None:
    assert fs_control.get("/api/mailboxes").json() == {"message": "Not Authorized"}
    wrong = fs_control.get("/api/mailboxes", headers={"X-FreeScout-API-Key": "nope"})
    assert (wrong.status_code, wrong.json()) == (401, {"message": "Not Authorized"})
    assert fs_control.get("/api/mailboxes", headers={"x-freescout-api-key": API_KEY}).status_code == 200
    assert fs_control.get("/api/mailboxes", params={"api_key": API_KEY}).status_code == 200


def test_recorded_requests_redact_the_api_key(fs: httpx.Client, fs_control: httpx.Client) -> None:
    fs.get("/api/users", params={"email": "issue-bot@example.com"})
    (entry,) = fs_control.get("/_sim/requests").json()["requests"]
    assert entry["headers"]["x-freescout-api-key"] == "<redacted>"
    assert (entry["method"], entry["path"], entry["query"], entry["status"]) == (
        "GET",
        "/api/users",
        {"email": "issue-bot@example.com"},
        200,
    )


def test_unknown_conversation_is_404_with_module_body(fs: httpx.Client) -> None:
    response = fs.get("/api/conversations/999999")
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Not Found", "_embedded": {"errors": []}},
    )


def test_conversation_object_has_contract_shape_and_every_mailbox_field(
    fs: httpx.Client, fs_control: httpx.Client
) -> None:
    conv = fs.get(f"/api/conversations/{email(fs_control, mailbox=1)['id']}").json()
    assert set(conv) == CONVERSATION_KEYS
    assert set(conv["_embedded"]) == {"threads"}
    (thread,) = conv["_embedded"]["threads"]
    assert set(thread) == THREAD_KEYS
    assert thread["type"] == "customer" and thread["to"] == ["ops@example.com"]
    assert conv["customFields"] == [
        {"id": 12, "name": "github_issue_url", "value": "", "text": ""},
        {"id": 13, "name": "Priority", "value": "", "text": ""},
    ]
    assert conv["createdBy"]["type"] == "customer" and conv["source"] == {"type": "email", "via": "customer"}
    assert conv["createdAt"] == "2025-03-04T09:12:44Z"


def test_mailbox_without_fields_has_no_custom_fields_key(fs: httpx.Client, fs_control: httpx.Client) -> None:
    conv = fs.get(f"/api/conversations/{email(fs_control, mailbox=3)['id']}").json()
    assert "customFields" not in conv


def test_embed_tags_alone_drops_threads(fs: httpx.Client, fs_control: httpx.Client) -> None:
    cid = email(fs_control, tags=["needs-issue"])["id"]
    plain = fs.get(f"/api/conversations/{cid}").json()["_embedded"]
    tags_only = fs.get(f"/api/conversations/{cid}", params={"embed": "tags"}).json()["_embedded"]
    both = fs.get(f"/api/conversations/{cid}", params={"embed": "threads,tags"}).json()["_embedded"]
    assert len(plain["threads"]) == 1 and "tags" not in plain
    assert tags_only == {"threads": [], "tags": [{"id": 1, "name": "needs-issue"}]}
    assert len(both["threads"]) == 1 and both["tags"] == [{"id": 1, "name": "needs-issue"}]


def test_status_change_adds_lineitem_and_closed_fields_only_while_closed(
    fs: httpx.Client, fs_control: httpx.Client, clock: FakeClock
) -> None:
    cid = email(fs_control)["id"]
    clock.advance()
    assert fs.put(f"/api/conversations/{cid}", json={"byUser": 9, "status": "closed"}).status_code == 204
    conv = fs.get(f"/api/conversations/{cid}").json()
    newest = max(conv["_embedded"]["threads"], key=lambda t: t["id"])
    assert (newest["type"], newest["action"]["type"], newest["body"]) == (
        "lineitem",
        "changed-ticket-status",
        None,
    )
    assert (conv["status"], conv["closedBy"], conv["closedByUser"]["id"]) == ("closed", 9, 9)
    assert conv["closedAt"] == conv["updatedAt"] == "2025-03-04T09:13:44Z"
    fs.put(f"/api/conversations/{cid}", json={"byUser": 3, "status": "active"})
    reopened = fs.get(f"/api/conversations/{cid}").json()
    assert (reopened["closedBy"], reopened["closedByUser"], reopened["closedAt"]) == (None, None, None)
    # FreeScout's order: created_at descending only, so threads of the same second come oldest first.
    listed = [(t["createdAt"], t["id"]) for t in reopened["_embedded"]["threads"]]
    assert listed == sorted(listed, key=lambda c: (c[0], -c[1]), reverse=True)
    assert listed[0][0] > listed[-1][0] and listed[0][1] < listed[1][1], "the last two share a second"


def test_put_needs_by_user_and_maps_unknown_status_to_active(
    fs: httpx.Client, fs_control: httpx.Client
) -> None:
    cid = email(fs_control, status="pending")["id"]
    missing = fs.put(f"/api/conversations/{cid}", json={"status": "closed"})
    assert missing.status_code == 400
    assert missing.json()["_embedded"]["errors"][0]["path"] == "byUser"
    assert fs.put(f"/api/conversations/{cid}", json={"byUser": 9, "status": "open"}).status_code == 204
    assert fs.get(f"/api/conversations/{cid}").json()["status"] == "active"


def test_tags_are_replaced_normalised_and_do_not_bump_updated_at(
    fs: httpx.Client, fs_control: httpx.Client, clock: FakeClock
) -> None:
    conv = email(fs_control, tags=["old"])
    clock.advance(5)
    response = fs.put(
        f"/api/conversations/{conv['id']}/tags", json={"tags": ["  GitHub-Linked ", "Bug", "", "bug"]}
    )
    assert (response.status_code, response.content) == (204, b"")
    after = fs.get(f"/api/conversations/{conv['id']}", params={"embed": "tags"}).json()
    assert [t["name"] for t in after["_embedded"]["tags"]] == ["github-linked", "bug"]
    assert after["updatedAt"] == conv["updatedAt"]
    listed = fs.get("/api/tags", params={"conversationId": conv["id"]}).json()
    assert [(t["name"], t["counter"]) for t in listed["_embedded"]["tags"]] == [
        ("github-linked", 1),
        ("bug", 1),
    ]


def test_a_note_bumps_updated_at_and_is_trimmed(
    fs: httpx.Client, fs_control: httpx.Client, clock: FakeClock
) -> None:
    conv = email(fs_control)
    clock.advance(2)
    created = fs.post(
        f"/api/conversations/{conv['id']}/threads", json={"type": "note", "user": 9, "text": "  <p>x</p> "}
    )
    assert created.status_code == 201 and created.headers["Resource-ID"] == str(created.json()["id"])
    assert created.json()["body"] == "<p>x</p>"
    after = fs.get(f"/api/conversations/{conv['id']}").json()
    assert after["updatedAt"] == "2025-03-04T09:14:44Z" and after["status"] == "active"


def test_custom_fields_write_only_listed_known_non_empty_values(
    fs: httpx.Client, fs_control: httpx.Client
) -> None:
    cid = email(fs_control, mailbox=2)["id"]
    url = "https://github.com/acme/app/issues/412"
    assert (
        fs.put(
            f"/api/conversations/{cid}/custom_fields", json={"customFields": [{"id": 7, "value": url}]}
        ).status_code
        == 204
    )
    ignored = [
        {"id": 7, "value": ""},
        {"id": 7, "value": None},
        {"id": 12, "value": "other mailbox"},
        {"value": "x"},
    ]
    assert (
        fs.put(f"/api/conversations/{cid}/custom_fields", json={"customFields": ignored}).status_code == 204
    )
    fields = fs.get(f"/api/conversations/{cid}").json()["customFields"]
    assert fields == [{"id": 7, "name": "github_issue_url", "value": url, "text": ""}]


def test_unknown_thread_type_silently_becomes_a_customer_reply(
    fs: httpx.Client, fs_control: httpx.Client
) -> None:
    cid = email(fs_control, status="closed")["id"]
    response = fs.post(
        f"/api/conversations/{cid}/threads", json={"type": "notes", "user": 9, "text": "<p>oops</p>"}
    )
    assert response.status_code == 201 and response.json()["type"] == "customer"
    assert fs.get(f"/api/conversations/{cid}").json()["status"] == "active"


def test_thread_status_rules(fs: httpx.Client, fs_control: httpx.Client) -> None:
    cid = email(fs_control)["id"]
    no_user = fs.post(f"/api/conversations/{cid}/threads", json={"type": "note", "user": 404, "text": "x"})
    assert no_user.status_code == 400 and no_user.json()["_embedded"]["errors"][0]["path"] == "user"
    blank = fs.post(f"/api/conversations/{cid}/threads", json={"type": "note", "user": 9, "text": "   "})
    assert blank.status_code == 400 and blank.json()["_embedded"]["errors"][0]["path"] == "text"
    fs.post(f"/api/conversations/{cid}/threads", json={"type": "message", "user": 9, "text": "<p>reply</p>"})
    assert fs.get(f"/api/conversations/{cid}").json()["status"] == "pending"
    fs.post(
        f"/api/conversations/{cid}/threads", json={"type": "note", "user": 9, "text": "n", "status": "closed"}
    )
    assert fs.get(f"/api/conversations/{cid}").json()["status"] == "closed"


def test_body_is_ignored_without_json_content_type(fs: httpx.Client, fs_control: httpx.Client) -> None:
    cid = email(fs_control)["id"]
    response = fs.post(
        f"/api/conversations/{cid}/threads",
        content=b'{"type":"note","user":9,"text":"x"}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 400


def test_create_conversation_creates_customer_threads_newest_first_and_custom_fields(
    fs: httpx.Client,
) -> None:
    body = {
        "type": "email",
        "mailboxId": 2,
        "subject": "Regression reported from GitHub #412",
        "customer": {"email": "new@example.com"},
        "threads": [
            {"type": "note", "user": 9, "text": "<p>Opened from GitHub issue acme/app#412</p>"},
            {
                "type": "customer",
                "text": "<p>Original report text</p>",
                "customer": {"email": "new@example.com"},
            },
        ],
        "status": "active",
        "imported": True,
        "customFields": [{"id": 7, "value": "https://github.com/acme/app/issues/412"}],
    }
    response = fs.post("/api/conversations", json=body)
    assert response.status_code == 201
    conv = response.json()
    assert response.headers["Resource-ID"] == str(conv["id"])
    # Created oldest first from the newest-first list; same-second threads are listed in no fixed order.
    assert [t["type"] for t in sorted(conv["_embedded"]["threads"], key=lambda t: t["id"])] == [
        "customer",
        "note",
    ]
    assert conv["customer"]["email"] == "new@example.com"
    assert conv["customFields"][0]["value"] == "https://github.com/acme/app/issues/412"
    assert "\\/" in response.text  # Laravel's json_encode escapes slashes
    missing = fs.post("/api/conversations", json={"type": "email", "mailboxId": 2}).json()
    assert {e["path"] for e in missing["_embedded"]["errors"]} == {"subject", "customer", "threads"}


def test_list_filters_sort_and_paging(fs: httpx.Client, fs_control: httpx.Client, clock: FakeClock) -> None:
    first = email(fs_control, mailbox=1, tags=["Needs-Issue"])
    clock.advance()
    second = email(fs_control, mailbox=2, status="pending")
    clock.advance()
    email(fs_control, mailbox=3, status="closed")
    listed = fs.get(
        "/api/conversations", params={"mailboxId": "1,2", "status": "active,pending", "pageSize": 1}
    ).json()
    assert listed["page"] == {"size": 1, "totalElements": 2, "totalPages": 2, "number": 1}
    item = listed["_embedded"]["conversations"][0]
    assert item["id"] == second["id"] and item["_embedded"]["threads"] == [] and "customFields" in item
    tagged = fs.get("/api/conversations", params={"tag": "  NEEDS-issue ", "embed": "threads"}).json()
    assert [c["id"] for c in tagged["_embedded"]["conversations"]] == [first["id"]]
    assert len(tagged["_embedded"]["conversations"][0]["_embedded"]["threads"]) == 1
    asc = fs.get("/api/conversations", params={"sortField": "createdAt", "sortOrder": "asc"}).json()
    assert asc["_embedded"]["conversations"][0]["id"] == first["id"]
    since = fs.get("/api/conversations", params={"updatedSince": "2025-03-04T09:13:44Z"}).json()
    assert since["page"]["totalElements"] == 2
    empty = fs.get("/api/conversations", params={"customerEmail": "nobody@example.com"}).json()
    assert empty["page"] == {"size": 50, "totalElements": 0, "totalPages": 1, "number": 1}


def test_mailboxes_custom_fields_and_users(fs: httpx.Client) -> None:
    boxes = fs.get("/api/mailboxes").json()["_embedded"]["mailboxes"]
    assert [(b["id"], b["email"]) for b in boxes] == [
        (1, "ops@example.com"),
        (2, "support@example.com"),
        (3, "sales@example.com"),
    ]
    fields = fs.get("/api/mailboxes/2/custom_fields").json()
    assert fields["_embedded"]["custom_fields"] == [
        {
            "id": 7,
            "name": "github_issue_url",
            "type": "singleline",
            "options": "",
            "required": False,
            "sortOrder": 1,
        }
    ]
    assert fs.get("/api/mailboxes/1/custom_fields").json()["_embedded"]["custom_fields"][0]["id"] == 12
    assert fs.get("/api/mailboxes/3/custom_fields").json()["_embedded"]["custom_fields"] == []
    assert fs.get("/api/mailboxes/99/custom_fields").status_code == 404
    (bot,) = fs.get("/api/users", params={"email": "issue-bot@example.com"}).json()["_embedded"]["users"]
    assert (bot["id"], bot["firstName"], bot["lastName"]) == (9, "Issue", "Bot")
    assert fs.get("/api/users/3").json()["email"] == "alex@example.com"
    assert fs.get("/api/users/404").status_code == 404


def test_webhook_registration_drops_unknown_events(fs: httpx.Client) -> None:
    created = fs.post(
        "/api/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["convo.created", "convo.tags"]}
    )
    assert created.status_code == 201 and created.json()["events"] == ["convo.created"]
    assert created.headers["Resource-ID"] == str(created.json()["id"])
    assert (
        fs.post("/api/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["convo.tags"]}).status_code
        == 400
    )
    assert fs.delete(f"/api/webhooks/{created.json()['id']}").status_code == 204
    assert fs.delete(f"/api/webhooks/{created.json()['id']}").status_code == 404


def test_wrong_method_is_405_json_string(fs: httpx.Client) -> None:
    response = fs.patch("/api/conversations/1")
    assert (response.status_code, response.json()) == (405, "Method Not Allowed")
