"""``GET /status`` over real HTTP: who may see it, what it shows, how it filters, and what it never shows."""

from __future__ import annotations

import base64
import re
import time

import httpx

from bridge.status_view import CSP
from tests.cli.status_helpers import STATUS_TOKEN, deliver, status_web_process
from tests.harness import FS_KEY, FS_SECRET, GH_TOKEN, Deployment

BEARER = {"Authorization": f"Bearer {STATUS_TOKEN}"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def rows(html: str) -> list[list[str]]:
    """The decisions table's cells, row by row, tags stripped."""
    table = html.split('<table id="decisions">', 1)[1].split("</table>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1])
    ]


def test_the_page_is_off_without_an_admin_token(deployment: Deployment) -> None:
    with status_web_process(deployment, BRIDGE_ADMIN_TOKEN="") as server:
        response = httpx.get(f"{server.url}/status", timeout=10)
    assert response.status_code == 403
    assert response.json()["error"] == "admin_disabled" and "BRIDGE_ADMIN_TOKEN" in response.json()["message"]


def test_a_browser_is_asked_for_the_token_as_a_basic_password(deployment: Deployment) -> None:
    with status_web_process(deployment) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        anonymous = client.get("/status")
        assert anonymous.status_code == 401
        assert (
            anonymous.headers["www-authenticate"] == 'Basic realm="freescout-github-bridge", charset="UTF-8"'
        )
        assert anonymous.json()["error"] == "unauthorised"
        for wrong in (basic("admin", "nope"), basic(STATUS_TOKEN, ""), {"Authorization": "Basic !!"}):
            assert client.get("/status", headers=wrong).status_code == 401
        assert client.get("/status", headers=basic("anyone", STATUS_TOKEN)).status_code == 200
        page = client.get("/status", headers=BEARER)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "shadow: deciding and logging, writing nothing" in page.text
    assert "ops@example.com, support@example.com" in page.text


def test_decisions_appear_filter_by_conversation_and_outcome_and_leak_nothing(deployment: Deployment) -> None:
    bug = deployment.fs.email("Export crashes for dana@example.com", tags=["bug"], mailbox=2)["id"]
    plain = deployment.fs.email(tags=[], mailbox=2)["id"]
    with status_web_process(deployment) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        assert deliver(deployment, server, bug) == 200
        assert deliver(deployment, server, plain) == 200
        assert deliver(deployment, server, plain, secret="x" * 32) == 401
        everything = client.get("/status", headers=BEARER).text
        only_plain = client.get("/status", params={"conversation": f"#{plain}"}, headers=BEARER).text
        only_refused = client.get("/status", params={"outcome": "refused"}, headers=BEARER).text
        bad = client.get("/status", params={"conversation": "12abc"}, headers=BEARER)
    assert [(r[2], r[3], r[4], r[5]) for r in rows(everything)] == [
        ("convo.created", "", "refused", "signature_mismatch"),
        ("convo.created", str(plain), "ignore", "no_trigger_tag"),
        ("convo.created", str(bug), "would_link", "tag:bug"),
    ]
    assert [(r[3], r[4]) for r in rows(only_plain)] == [(str(plain), "ignore")]
    assert [r[4] for r in rows(only_refused)] == ["refused"]
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_filter"
    counts = everything.split('<table id="counts">', 1)[1].split("</table>", 1)[0]
    for outcome in ("would_link", "ignore", "refused"):
        assert f"<td>{outcome}</td><td class='num'>1</td><td class='num'>1</td>" in counts
    for secret in ("dana@example.com", "Export crashes", FS_KEY, FS_SECRET, GH_TOKEN, STATUS_TOKEN):
        assert secret not in everything


def test_a_sweep_pass_and_both_upstreams_show_on_the_page(deployment: Deployment) -> None:
    with status_web_process(deployment) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/readyz", headers=BEARER).json()["ready"] is True
        started = client.post("/admin/sweep", json={"dry_run": True}, headers=BEARER)
        assert started.status_code == 202
        location = started.headers["location"]
        deadline = time.monotonic() + 30
        while client.get(location, headers=BEARER).json()["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        html = client.get("/status", headers=BEARER).text
    assert re.search(r"Last sweep</dt><dd>[^<]*: ok \(dry run, admin\)", html)
    assert re.search(r"Next sweep</dt><dd>\d{4}-\d\d-\d\d [\d:]+ UTC \(in ", html)
    assert "GitHub write budget left</dt><dd>60 of 60 this minute, 400 of 400 this hour" in html
    for name in ("FreeScout", "GitHub"):
        assert re.search(rf"{name} last answered</dt><dd>\d{{4}}-[^<]* ago\)", html), name
