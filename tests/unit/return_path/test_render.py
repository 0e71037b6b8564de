"""Notes on tickets are inert: nothing from GitHub reaches FreeScout as HTML, and each carries its key."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bridge.github_model import Closer
from bridge.return_path_render import closed_notice, comment_notice, link, link_record_body, reopened_notice
from bridge.vocab import LinkRecord, link_record_in, notice_keys_in
from tests.unit.return_path.samples import comment, issue

EVIL = "<img src=x onerror=alert(1)><script>alert(2)</script>\"'&"


def tags(html: str) -> set[str]:
    return set(re.findall(r"<\s*([a-zA-Z]+)", html))


@pytest.mark.parametrize(
    ("reason", "says"),
    [
        ("completed", "was closed as completed by @octodev"),
        ("not_planned", "was closed as not planned by @octodev"),
        ("duplicate", "was closed as a duplicate by @octodev"),
        ("", "was closed by @octodev"),
    ],
)
def test_close_notice_texts(reason: str, says: str) -> None:
    html = closed_notice("k", issue(state_reason=reason or None, closed_by={"login": "octodev"}))
    assert notice_keys_in(html) == ["k"]
    assert says in html
    assert 'href="https://github.com/Codertocat/Hello-World/issues/1"' in html


def test_close_notice_names_the_closing_pull_request_or_commit() -> None:
    pr = Closer("pull_request", "https://github.com/Codertocat/Hello-World/pull/7", "#7")
    assert 'Closed by pull request <a href="https://github.com/Codertocat/Hello-World/pull/7">#7</a>' in (
        closed_notice("k", replace(issue(), closer=pr))
    )
    sha = Closer("commit", "https://github.com/Codertocat/Hello-World/commit/abc1234", "abc1234")
    assert "Closed by commit" in closed_notice("k", replace(issue(), closer=sha))


def test_everything_from_github_is_escaped() -> None:
    evil_issue = issue(title=EVIL, closed_by={"login": EVIL}, html_url="javascript:alert(3)")
    for html in (
        closed_notice("k", evil_issue),
        reopened_notice("k", evil_issue),
        comment_notice(
            "k", evil_issue, replace(comment(3, "x", login=EVIL), html_url="data:x"), EVIL + "\nline 2"
        ),
    ):
        assert tags(html) <= {"p", "a", "blockquote", "br"}, html
        assert "javascript:" not in html.split("href=")[-1] or "href=" not in html
        assert "&lt;script&gt;" in html


def test_comment_notice_keeps_lines_and_links_the_comment() -> None:
    html = comment_notice("k", issue(), comment(3, "/support x"), "first\nsecond")
    assert "first<br>second" in html
    assert 'href="https://github.com/Codertocat/Hello-World/issues/1#issuecomment-3"' in html


def test_long_support_text_is_cut() -> None:
    html = comment_notice("k", issue(), comment(3, "x"), "y" * 50_000)
    assert len(html) < 21_000 and "[truncated]" in html


@pytest.mark.parametrize("url", ["javascript:alert(1)", 'https://x.test/"onmouseover=1', "ftp://x", ""])
def test_only_plain_http_urls_become_links(url: str) -> None:
    assert "<a" not in link(url, "label")


@pytest.mark.parametrize(("kind", "says"), [("link", "now waits"), ("unlink", "no longer waits")])
def test_link_record_bodies(kind: str, says: str) -> None:
    body = link_record_body(LinkRecord(kind, 42, 7001), 1042)
    assert link_record_in(body) == LinkRecord(kind, 42, 7001)
    assert f"FreeScout ticket #1042 {says} on this issue." in body
