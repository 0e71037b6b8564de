"""The status page in a real browser: Debian's headless chromium, driven over the DevTools protocol.

A support lead's browser is asked for the token (HTTP Basic) and sees the page once it gives it, and an
error without it; the page renders its tables under its own strict Content-Security-Policy with no
violation; and a screenshot shows the decisions table drawn: its header band and one stripe per
second row, at the place the DOM puts the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import Chromium
from tests.browser.png import Image, decode
from tests.cli.status_helpers import STATUS_TOKEN, deliver, status_web_process
from tests.harness import Deployment
from tests.ops.tools import require

HEADER = (0x1F, 0x4E, 0x79)  # thead th background in status_view.STYLE
STRIPE = (0xEE, 0xF3, 0xF8)  # tbody tr:nth-child(even)
PLAIN, TAGGED = 14, 4


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    with Chromium(require("chromium"), tmp_path / "profile") as chromium:
        yield chromium


def table_box(browser: Chromium) -> dict[str, Any]:
    box: dict[str, Any] = browser.evaluate(
        "(() => { const r = document.querySelector('#decisions').getBoundingClientRect();"
        " const h = document.querySelector('#decisions thead').getBoundingClientRect();"
        " return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height, head: h.height}; })()"
    )
    return box


def bands(image: Image, x: int, top: int, bottom: int, colour: tuple[int, int, int]) -> int:
    """How many separate runs of ``colour`` the column ``x`` crosses between ``top`` and ``bottom``."""
    count, inside = 0, False
    for y in range(top, min(bottom, image.height)):
        hit = image.pixel(x, y) == colour
        count += hit and not inside
        inside = hit
    return count


def test_the_browser_is_refused_without_the_token(deployment: Deployment, browser: Chromium) -> None:
    with status_web_process(deployment) as server:
        browser.credentials = None  # the person cancels the login prompt
        browser.navigate(f"{server.url}/status")
        text = browser.evaluate("document.body.innerText")
        assert "unauthorised" in text and "BRIDGE_ADMIN_TOKEN" in text
        assert browser.evaluate("document.querySelector('#decisions')") is None
        browser.credentials = ("support-lead", "not-the-token")
        browser.navigate(f"{server.url}/status")
        assert browser.evaluate("document.querySelector('#decisions')") is None


def test_the_page_renders_its_tables_in_chromium_under_its_csp(
    deployment: Deployment, browser: Chromium, tmp_path: Path
) -> None:
    plain = [deployment.fs.email(tags=[], mailbox=1)["id"] for _ in range(PLAIN)]
    tagged = [deployment.fs.email(tags=["bug"], mailbox=2)["id"] for _ in range(TAGGED)]
    with status_web_process(deployment) as server:
        for cid in plain + tagged:
            assert deliver(deployment, server, cid) == 200
        browser.credentials = ("support-lead", STATUS_TOKEN)
        browser.navigate(f"{server.url}/status")
        assert browser.evaluate("document.title") == "freescout-github-bridge status"
        rows = browser.evaluate(
            "[...document.querySelectorAll('#decisions tbody tr')].map(r => r.cells[4].innerText)"
        )
        assert rows.count("ignore") == PLAIN and rows.count("would_link") == TAGGED
        header = browser.evaluate(
            "getComputedStyle(document.querySelector('#decisions thead th')).backgroundColor"
        )
        assert header == "rgb(31, 78, 121)", "the hashed style block applied under the CSP"
        assert browser.violations() == []
        png = browser.screenshot()
        box = table_box(browser)
        (tmp_path / "status.png").write_bytes(png)  # kept with the test's tmp dir for a look
        image = decode(png)

        x, top = int(box["x"]) + 3, int(box["y"])
        head_bottom, bottom = top + int(box["head"]), top + int(box["h"])
        header_rows = sum(image.pixel(x, y) == HEADER for y in range(top, head_bottom))
        assert header_rows >= int(box["head"]) - 2, "the header band is drawn where the DOM puts it"
        header_pixels = sum(
            image.pixel(px, top + int(box["head"]) // 2) == HEADER for px in range(x, x + int(box["w"]) - 6)
        )
        assert header_pixels > 0.5 * box["w"], "most of the header row is the header colour"
        stripes = bands(image, x, head_bottom, bottom, STRIPE)
        assert stripes == (PLAIN + TAGGED) // 2, "one stripe per second row: every row was drawn"

        browser.navigate(f"{server.url}/status?conversation={tagged[0]}")
        assert browser.evaluate("document.querySelectorAll('#decisions tbody tr').length") == 1
        browser.evaluate(
            "document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">injected</p>')"
        )
        assert any(v.startswith("style-src-attr") for v in browser.violations()), "the CSP is enforced"
