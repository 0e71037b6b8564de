"""Every citation of the upstream contracts points at the project's own docs, at a section that exists.

Users of the project do not have the team's shared notes, so the code cites ``docs/upstream/*.md``.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bridge", "sandbox", "tests", "bench", "runbooks", "config", "README.md")
_CITATION = re.compile(r"docs/upstream/(\w+)\.md`?\s*(?:§|sections?\s+)(\d+)(?:\s*(?:-|and|,\s*§?)\s*(\d+))?")


def sources() -> dict[Path, str]:
    found: dict[Path, str] = {}
    for name in SCANNED:
        path = ROOT / name
        files = (
            [path] if path.is_file() else [*path.rglob("*.py"), *path.rglob("*.md"), *path.rglob("*.toml")]
        )
        found.update({f: f.read_text(encoding="utf-8") for f in files if "__pycache__" not in f.parts})
    return found


def sections(doc: str) -> set[int]:
    text = (ROOT / "docs" / "upstream" / f"{doc}.md").read_text(encoding="utf-8")
    return {int(n) for n in re.findall(r"^## §(\d+) ", text, re.M)}


def test_no_citation_of_the_team_notes_remains() -> None:
    offenders = [str(p.relative_to(ROOT)) for p, text in sources().items() if "shared/" + "contracts" in text]
    assert offenders == []


def test_every_cited_section_exists() -> None:
    cited = 0
    for path, text in sources().items():
        for doc, first, last in _CITATION.findall(text):
            for number in {int(first), int(last or first)}:
                assert number in sections(doc), f"{path.relative_to(ROOT)} cites {doc}.md §{number}"
                cited += 1
    assert cited >= 15
