"""Turn customer-written HTML into text that is inert on GitHub.

Customers write the ticket; engineers read it on GitHub. Nothing a customer types may ping a GitHub user,
cross-reference an issue, load an image, run a link or break our hidden markers. The message goes inside a
fenced code block (GitHub renders nothing inside one); short inline text such as the subject is escaped.
"""

from __future__ import annotations

import html
import re
import textwrap
from html.parser import HTMLParser

#: Code points; safe under both readings of GitHub's body limit (docs/upstream/github.md §1).
GITHUB_BODY_LIMIT = 65_536
GITHUB_TITLE_LIMIT = 256
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_BLOCK_TAGS = frozenset(
    "p div br li ul ol tr table h1 h2 h3 h4 h5 h6 blockquote pre hr section article header footer".split()
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title"})
_ZWSP = "\u200b"


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def clean(text: str) -> str:
    """Replace lone surrogates and NULs, which no JSON consumer downstream should have to see."""
    return _SURROGATES.sub("\ufffd", text).replace("\x00", "\ufffd")


def html_to_text(markup: str) -> str:
    """Plain text from FreeScout's HTML thread body: tags dropped, entities decoded, blank lines folded."""
    parser = _TextExtractor()
    try:
        parser.feed(clean(markup or ""))
        parser.close()
    except AssertionError:  # html.parser's own guard for pathological markup
        return clean(html.unescape(re.sub(r"<[^>]*>", " ", markup or "")))
    lines = [re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def inline(text: str, limit: int | None = None) -> str:
    """Escape short customer text for Markdown: no mentions, no refs, no markup, one line."""
    flat = re.sub(r"\s+", " ", clean(text)).strip()
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    flat = re.sub(r"([\\`*_{}\[\]()<>#+!|~>-])", r"\\\1", flat)
    return re.sub(r"([@#])(?=\w)", "\\1" + _ZWSP, flat)


def title(text: str) -> str:
    """An issue title from the subject: one line, within GitHub's limit, nobody pinged."""
    flat = re.sub(r"\s+", " ", clean(text)).strip() or "(no subject)"
    flat = re.sub(r"([@#])(?=\w)", "\\1" + _ZWSP, flat)
    if len(flat) > GITHUB_TITLE_LIMIT:
        flat = flat[: GITHUB_TITLE_LIMIT - 1].rstrip() + "…"
    return flat


def fenced(text: str, budget: int, width: int = 100) -> str:
    """``text`` wrapped and fenced so GitHub renders it verbatim, truncated to fit ``budget`` code points."""
    body = "\n".join(
        textwrap.fill(line, width=width, break_long_words=True, replace_whitespace=False) if line else ""
        for line in clean(text).split("\n")
    )
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    overhead = len(fence) * 2 + len("text\n\n")
    room = max(0, budget - overhead)
    if len(body) > room:
        note = "\n… [truncated {n} characters]"
        cut = max(0, room - len(note.format(n=len(body))))
        body = body[:cut] + note.format(n=len(body) - cut)
    return f"{fence}text\n{body}\n{fence}"
