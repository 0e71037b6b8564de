"""Hypothesis strategies for hostile webhook input, shared by the hardening tests.

Everything is derandomized (``FUZZ``) so CI sees the same examples on every run, and ``deadline=None``
because a loaded CI box must not turn a slow example into a failure: these tests check behaviour only.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bridge.criteria import CONVERSATION_EVENTS
from tests.helpers import fixture


def fuzz(max_examples: int) -> settings:
    """Deterministic settings: same examples every run, no wall-clock deadline, no example database."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# Text that hurts: lone surrogates, NUL, RTL marks, astral emoji, digits that are not ASCII ("²", "١").
NASTY_CHARS = "\x00\ud800\udfff\u202e\u200f\ufeff😀²١\u0660\xa0\n\r\t\"\\/<>&'`@#"
nasty_text = st.text(alphabet=st.characters() | st.sampled_from(NASTY_CHARS), max_size=40)
huge_ints = st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, -1, 0, 2**53 + 1])
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | huge_ints
    | st.floats(allow_nan=True, allow_infinity=True)
    | nasty_text
    | st.sampled_from(["12", " 7 ", "²", "١٢", "1e3", "-5", "9" * 30, ""])
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(nasty_text, children, max_size=4),
    max_leaves=20,
)

REAL_FIXTURES = ("convo.created.json", "convo.status.closed.json")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a decoded JSON document (dict keys and list indexes)."""
    out: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


def _apply(doc: Any, path: tuple[Any, ...], new: Any, delete: bool) -> None:
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = new


@st.composite
def mutated_conversations(draw: st.DrawFn, max_changes: int = 4) -> Any:
    """A real FreeScout body with a few fields replaced by hostile values or removed (zulip-style negatives)."""
    doc = copy.deepcopy(fixture(draw(st.sampled_from(REAL_FIXTURES))))
    for _ in range(draw(st.integers(0, max_changes))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        _apply(doc, path, draw(json_values), draw(st.booleans()))
    return doc


class Blob(bytes):
    """Bytes with a short repr, so a failing 100 kB example is reported readably."""

    def __repr__(self) -> str:
        head = bytes(self[:48])
        return f"Blob({head!r}{'...' if len(self) > 48 else ''}, {len(self)} bytes)"


def deep(depth: int, opener: str = "[") -> bytes:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return (('{"a":' * depth) + "1" + "}" * depth).encode()
    return (opener * depth + closer * depth).encode()


def encodings(doc: Any) -> st.SearchStrategy[bytes]:
    """The same document as bytes in several encodings and escapings, including ones FreeScout never uses."""
    text = json.dumps(doc, ensure_ascii=False)
    return st.sampled_from(
        [
            json.dumps(doc).encode(),
            text.encode("utf-8", "surrogatepass"),
            text.encode("utf-16", "surrogatepass"),
            text.encode("utf-32", "surrogatepass"),
            b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass"),
            text.encode("latin-1", "replace"),
        ]
    )


HOSTILE_BODIES: list[bytes] = [
    Blob(b)
    for b in [
        b"",
        b" ",
        b"null",
        b"[]",
        b"{}",
        b'"\\ud800"',
        b'{"id":"\\ud800"}',
        b"\xff\xfe\xfd",
        b"\x00" * 64,
        b"9" * 5000,
        b'{"id":' + b"9" * 5000 + b"}",
        b'{"id":1e999,"mailboxId":-1e999}',
        b"NaN",
        b'{"id": Infinity}',
        deep(100_000),
        deep(50_000, "{"),
        deep(500),
        b'{"id":1,"id":2,"mailboxId":2}',
        b'{"_embedded":{"threads":' + b"[" * 3000 + b"]" * 3000 + b"}}",
    ]
]

raw_bodies = (
    st.binary(max_size=300)
    | st.sampled_from(HOSTILE_BODIES)
    | json_values.map(lambda v: json.dumps(v).encode())
    | mutated_conversations().flatmap(encodings)
)
event_names = (
    st.sampled_from(sorted(CONVERSATION_EVENTS))
    | st.sampled_from(
        ["", " ", "convo.deleted", "customer.created", "custom.webhook.event", "CONVO.CREATED", "x" * 500]
    )
    | st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=30
    )
)
