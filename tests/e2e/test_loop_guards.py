"""The two locks, across both directions, with the real bridge process and the real Actions script.

A ticket made by Direction B must never produce a GitHub issue; an issue made by Direction A must never
produce a ticket; and either lock alone must hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.demo import issues_event, run_actions
from tests.harness import Bridge, Deployment, FreeScout, GitHub

pytestmark = pytest.mark.e2e
StartBridge = Callable[..., Bridge]


def direction_b(deployment: Deployment, issue: dict[str, Any], label: str) -> None:
    """The real Actions script on ``issues: labeled`` for the simulator's ``issue`` (raises if it fails)."""
    event = issues_event("labeled", issue, label={"name": label, "color": "d73a4a", "default": False})
    run_actions(deployment.env, event, f"{issue['number']}-{label}", deployment.tmp)
    deployment.fs.wait_idle()


def conversations(fs: FreeScout) -> list[dict[str, Any]]:
    return list(fs.get("/_sim/state")["conversations"])


def test_a_ticket_made_by_direction_b_never_opens_an_issue(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge, deployment: Deployment
) -> None:
    bridge = start_bridge()
    issue = gh.post("/_sim/issues", {"title": "Export broken for EU customers", "labels": ["regression"]})
    direction_b(deployment, issue, "regression")
    (ticket,) = conversations(fs)
    assert sorted(t["name"] for t in ticket["_embedded"]["tags"]) == ["_from_github", "bug", "regression"]
    # Its own tags include `bug`, a trigger: only the locks keep Direction A away.
    fs.post(f"/_sim/conversations/{ticket['id']}/customer-reply", {"body": "<p>still broken</p>"})
    fs.wait_idle()
    assert [i["number"] for i in gh.issues()] == [issue["number"]]
    reasons = {d["reason"] for d in bridge.deliveries_logged() if d.get("conversation_id") == ticket["id"]}
    assert reasons and reasons <= {"own_write_echo", "already_linked", "from_github"}


@pytest.mark.parametrize("lock_left", ["field", "tag"])
def test_either_freescout_lock_alone_stops_direction_a(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge, deployment: Deployment, lock_left: str
) -> None:
    start_bridge()
    issue = gh.post("/_sim/issues", {"title": "Totals off by one", "labels": ["customer-reported"]})
    direction_b(deployment, issue, "customer-reported")
    (ticket,) = conversations(fs)
    cid = ticket["id"]
    if lock_left == "field":  # an agent removed the tag and added a trigger tag
        fs.post(f"/_sim/conversations/{cid}/tags", {"tags": ["bug"]})
    else:  # an agent cleared the field in the UI; the tag stays
        field_id = next(f["id"] for f in ticket["customFields"] if f["name"] == "github_issue_url")
        fs.post(f"/_sim/conversations/{cid}/custom-fields", {"customFields": [{"id": field_id, "value": ""}]})
        fs.post(f"/_sim/conversations/{cid}/tags", {"tags": ["_from_github", "bug"]})
    fs.post(f"/_sim/conversations/{cid}/customer-reply", {"body": "<p>any update?</p>"})
    fs.wait_idle()
    assert [i["number"] for i in gh.issues()] == [issue["number"]]


@pytest.mark.parametrize("lock_left", ["both", "label", "marker"])
def test_an_issue_made_by_direction_a_never_files_a_ticket(
    fs: FreeScout, gh: GitHub, start_bridge: StartBridge, deployment: Deployment, lock_left: str
) -> None:
    start_bridge()
    conv = fs.email(tags=["bug"])
    fs.wait_idle()
    (issue,) = gh.issues()
    token = {"Authorization": "token gh-sim-token"}
    path = f"/repos/acme/app/issues/{issue['number']}"
    if lock_left == "label":  # an engineer rewrote the body, dropping the hidden marker
        gh.http.patch(path, json={"body": "rewritten by hand"}, headers=token).raise_for_status()
    if lock_left == "marker":  # an engineer removed the freescout-linked label
        gh.http.put(f"{path}/labels", json={"labels": ["bug"]}, headers=token).raise_for_status()
    gh.http.post(f"{path}/labels", json={"labels": ["customer-reported"]}, headers=token).raise_for_status()
    fresh = next(i for i in gh.issues() if i["number"] == issue["number"])
    direction_b(deployment, fresh, "customer-reported")
    assert [c["id"] for c in conversations(fs)] == [conv["id"]]
    assert not any(c.startswith("[freescout-autolink]") for c in gh.comments(issue["number"]))
