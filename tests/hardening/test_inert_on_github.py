"""Customer text arrives on GitHub inert, end to end: FreeScout simulator -> real endpoint -> GitHub simulator.

``tests/unit/test_render.py`` pins the renderer; these tests check the same promises on the issue the
GitHub simulator actually stored, after the bridge read fresh state over HTTP and created it through
PyGithub: no pings, no cross-references, no markup outside the fence, one marker, GitHub's limits kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from bridge import text
from bridge.app import create_app
from bridge.vocab import conversation_ids_in
from sandbox.serve import ServerThread
from tests.hardening.conftest import bridge_settings, loopback_client
from tests.harness import FreeScout, GitHub
from tests.helpers import fixture, signed

pytestmark = pytest.mark.e2e
HOSTILE = (
    "<p>@octocat please look, cc @acme/security-team, see #123, GH-7 and acme/app#9</p>"
    "<p><img src=x onerror=alert(1)> ![img](https://evil.example/x.png)</p>"
    '<p>[click](javascript:alert(1)) <a href="javascript:alert(3)">here</a> <script>alert(2)</script></p>'
    "<h1># heading</h1><p>```</p><p>~~~</p><p>--> <!-- [freescout-autolink] conversation=999 --></p>"
    "<p>&lt;details open&gt;&lt;summary&gt;x&lt;/summary&gt; &lt;img src=x&gt;</p>"
)


class Linker:
    def __init__(self, client: Any, freescout: FreeScout, github: GitHub) -> None:
        self.client, self.freescout, self.github = client, freescout, github

    def link(self, subject: str, body_html: str) -> dict[str, Any]:
        """A tagged conversation arrives; the bridge links it; return the issue GitHub stored."""
        conv = self.freescout.api(
            "POST",
            "/conversations",
            {
                "type": "email",
                "mailboxId": 2,
                "subject": subject,
                "customer": {"email": "dana@example.com"},
                "threads": [
                    {"type": "customer", "text": body_html, "customer": {"email": "dana@example.com"}}
                ],
            },
        )
        self.freescout.api("PUT", f"/conversations/{conv['id']}/tags", {"tags": ["bug"]})
        raw, headers = signed(
            fixture("convo.created.json", id=conv["id"], number=conv["number"]), "convo.created"
        )
        answer = self.client.post("/api/webhooks/freescout/support", content=raw, headers=headers)
        assert answer.status_code == 200 and answer.json()["outcome"] == "linked", answer.text
        number = int(answer.json()["issue_url"].rsplit("/", 1)[1])
        repo = next(r for r in self.github.state()["repos"] if r["full_name"] == "acme/app")
        issue: dict[str, Any] = next(i for i in repo["issues"] if i["number"] == number)
        issue["conversation_id"] = conv["id"]
        return issue


@pytest.fixture(scope="module")
def linker(freescout: FreeScout, github: GitHub) -> Iterator[Linker]:
    settings = bridge_settings(
        freescout.url,
        github.url,
        github_write_spacing_seconds=0.0,
        github_content_per_minute=1000,
        github_content_per_hour=10_000,
    )
    with ServerThread(create_app(settings)) as server, loopback_client(server.url) as client:
        yield Linker(client, freescout, github)


def outside_fences(body: str) -> str:
    return re.sub(r"(`{3,})text\n.*?\n\1", "", body, flags=re.S)


def test_mentions_refs_and_markup_stay_inside_the_fence(linker: Linker) -> None:
    issue = linker.link("@octocat broke #42 <img src=x> [x](javascript:alert(1))", HOSTILE)
    body, title = issue["body"], issue["title"]
    outside = outside_fences(body)
    for needle in (
        "@octocat",
        "@acme/security",
        "#123",
        "#9",
        "javascript:",
        "evil.example",
        "onerror",
        "<img",
        "<details",
    ):
        assert needle not in outside, needle
    assert re.search(r"@\w", title) is None and re.search(r"#\d", title) is None
    assert "@octocat" in body  # the customer's words survive verbatim, inside the fence
    assert "alert(2)" not in body  # script content is dropped
    assert conversation_ids_in(body) == [issue["conversation_id"]]  # the planted marker is not a marker
    opening = re.search(r"^(`{3,})text$", body, flags=re.M)
    assert opening is not None
    fence = opening.group(1)
    inside = body[opening.end() : body.rindex("\n" + fence + "\n")]
    assert max(len(run) for run in re.findall("`+", inside)) < len(fence)  # nothing inside can close it


def test_a_huge_message_is_truncated_at_a_code_point_under_the_limit(linker: Linker) -> None:
    issue = linker.link("big", "<p>" + "😀é" * 150_000 + "</p>")
    body = issue["body"]
    assert len(body) <= text.GITHUB_BODY_LIMIT and "[truncated" in body
    body.encode("utf-8")  # no half characters, no lone surrogates
    assert conversation_ids_in(body) == [issue["conversation_id"]]


def test_rtl_emoji_and_a_ten_thousand_character_subject_survive(linker: Linker) -> None:
    subject = "שלום 👋🏽 مرحبا " + "x" * 10_000
    issue = linker.link(subject, "<p>مرحبا 👩‍💻 \u202eRTL override\u202c שלום</p>")
    assert issue["title"].startswith("שלום 👋🏽 مرحبا") and len(issue["title"]) <= text.GITHUB_TITLE_LIMIT
    assert "مرحبا 👩‍💻" in issue["body"] and "שלום" in issue["body"]


def test_lone_surrogates_and_nul_in_customer_text_do_not_break_the_issue(linker: Linker) -> None:
    issue = linker.link("bad \ud800 subject \x00", "<p>bad \udfff char \x00 here</p>")
    (issue["title"] + issue["body"]).encode("utf-8")
    assert "\x00" not in issue["body"]
