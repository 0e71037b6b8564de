"""Signed, real-format FreeScout deliveries that the bridge can settle from the payload alone.

Each is a FreeScout fixture (tests/fixtures/freescout) changed in one field, PHP-encoded and signed the way
FreeScout sends it. With ``[autolink] mailboxes = [1]`` in the bench config none of them needs an upstream
call: the bridge must answer 200 ``ignore`` with the reason shown.
"""

from __future__ import annotations

import copy
from pathlib import Path

from bridge.signature import sign_freescout
from sandbox.phpjson import dumps as php_json
from tests.helpers import SECRET, fixture

BENCH_CONFIG = """\
[autolink]
mailboxes = [1]
[limits]
max_body_bytes = 1048576
body_read_timeout_seconds = 10.0
"""


def _own_echo() -> dict[str, object]:
    body = fixture("convo.status.closed.json", mailboxId=1, status="active", closedAt=None)
    body["customFields"] = []
    threads = body["_embedded"]["threads"]
    note = copy.deepcopy(threads[1])  # the bot's note (user 9) as the newest thread: the highest id, as the
    note["id"] = max(t["id"] for t in threads) + 1  # real FreeScout shows (same-second threads vary in order)
    threads.insert(0, note)
    return body


def _already_linked() -> dict[str, object]:
    body = fixture("convo.created.json", mailboxId=1)
    body["customFields"] = [
        {"id": 12, "name": "github_issue_url", "value": "https://github.com/acme/app/issues/412", "text": ""}
    ]
    return body


#: (name, event, body, expected reason)
DECIDABLE = [
    ("wrong_mailbox", "convo.created", fixture("convo.created.json"), "mailbox_not_configured"),
    ("already_linked", "convo.customer.reply.created", _already_linked(), "already_linked"),
    ("own_echo", "convo.note.created", _own_echo(), "own_write_echo"),
    ("unsupported_event", "customer.created", fixture("convo.created.json")["customer"], "unsupported_event"),
]


def signed_requests(secret: str = SECRET) -> list[tuple[str, str, bytes, str, str]]:
    """``(name, event, raw body, signature, expected reason)`` for each decidable delivery."""
    out = []
    for name, event, body, reason in DECIDABLE:
        raw = php_json(body).encode("ascii")
        out.append((name, event, raw, sign_freescout(raw, secret), reason))
    return out


def write_wrk_requests(path: Path, secret: str = SECRET) -> Path:
    """The file ``bench/post.lua`` reads: event, signature and body, one per line, per request."""
    lines = []
    for _name, event, raw, signature, _reason in signed_requests(secret):
        assert b"\n" not in raw
        lines += [event, signature, raw.decode("ascii")]
    path.write_text("\n".join(lines) + "\n")
    return path
