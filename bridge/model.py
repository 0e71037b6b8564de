"""Typed views of FreeScout's Conversation object, as sent in webhooks and returned by the API.

Parsing is strict about types and forgiving about absent keys (the Custom Fields and Tags modules may be
missing). Anything that is not a conversation raises ``PayloadError`` and becomes a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.vocab import FIELD_GITHUB_ISSUE_URL


class PayloadError(Exception):
    """The body is not a FreeScout conversation; ``reason`` is the log key, the message is for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Thread:
    id: int
    type: str
    created_by_id: int | None
    created_by_type: str
    body: str
    created_at: str
    status: str = ""
    action_type: str = ""


@dataclass(frozen=True)
class CustomField:
    id: int
    name: str
    value: str


@dataclass(frozen=True)
class Conversation:
    id: int
    number: int
    mailbox_id: int
    status: str
    state: str
    subject: str
    customer_email: str
    created_at: str
    updated_at: str
    closed_at: str
    threads: tuple[Thread, ...]
    custom_fields: tuple[CustomField, ...]
    tags: tuple[str, ...] | None  # None: the body carried no tags (every webhook body)

    def field(self, name: str = FIELD_GITHUB_ISSUE_URL) -> CustomField | None:
        """The custom field called ``name`` (trimmed, case-insensitive), if the mailbox has it."""
        wanted = name.strip().lower()
        return next((f for f in self.custom_fields if f.name.strip().lower() == wanted), None)

    @property
    def github_issue_url(self) -> str:
        found = self.field()
        return found.value.strip() if found else ""

    @property
    def newest_thread(self) -> Thread | None:
        """The thread written last: the highest id. FreeScout lists threads by ``created_at`` only (one-second
        resolution), so threads of the same second come in no fixed order: oldest first and newest first
        were both seen on 1.8.159."""
        return max(self.threads, key=lambda t: t.id) if self.threads else None

    @property
    def closure_key(self) -> str:
        """Names this closure: the status-change thread that closed it, else ``closedAt``.

        ``closedAt`` has one-second resolution, so a reopen and re-close within a second would otherwise
        look like the same closure. Of the closing lines of that second, the newest (highest id) names it:
        FreeScout lists same-second threads in no fixed order (see ``newest_thread``).
        """
        closing = [
            t.id
            for t in self.threads
            if t.type == "lineitem" and t.status == "closed" and t.created_at == self.closed_at
        ]
        return f"thread-{max(closing)}" if closing else self.closed_at

    @property
    def first_customer_thread(self) -> Thread | None:
        """The oldest customer-written thread: the original report."""
        customer = [t for t in self.threads if t.type == "customer"]
        return min(customer, key=lambda t: t.id) if customer else None


def _int(data: Mapping[str, Any], key: str, *, required: bool = True) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        digits = value.strip() if isinstance(value, str) else ""
        if digits.isascii() and digits.isdigit() and len(digits) < 19:  # "²".isdigit(), but int("²") fails
            return int(digits)
        if not required and value is None:
            return 0
        raise PayloadError("invalid_payload", f"'{key}' must be an integer")
    if not 0 <= value < 2**63:
        raise PayloadError("invalid_payload", f"'{key}' is out of range")
    return value


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _obj(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def _thread(data: Any) -> Thread | None:
    if not isinstance(data, Mapping):
        return None
    created_by = _obj(data, "createdBy")
    by_id = created_by.get("id")
    return Thread(
        id=_int(data, "id", required=False),
        type=_str(data, "type"),
        created_by_id=by_id if isinstance(by_id, int) and not isinstance(by_id, bool) else None,
        created_by_type=_str(created_by, "type"),
        body=_str(data, "body"),
        created_at=_str(data, "createdAt"),
        status=_str(data, "status"),
        action_type=_str(_obj(data, "action"), "type"),
    )


def _custom_field(data: Any) -> CustomField | None:
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), int):
        return None
    value = data.get("value")
    return CustomField(id=data["id"], name=_str(data, "name"), value=value if isinstance(value, str) else "")


def _tags(embedded: Mapping[str, Any]) -> tuple[str, ...] | None:
    if "tags" not in embedded:
        return None
    names: list[str] = []
    for tag in _list(embedded, "tags"):
        name = tag.get("name") if isinstance(tag, Mapping) else tag
        if isinstance(name, str) and name.strip():
            names.append(name.strip().lower())
    return tuple(names)


def _raw_id(raw: Any) -> int:
    value = raw.get("id") if isinstance(raw, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def parse_conversation(data: Any, *, newest_thread_only: bool = False) -> Conversation:
    """Build a ``Conversation`` from a decoded webhook body or API response.

    ``newest_thread_only`` is for webhook snapshots: the payload decision needs only the newest thread
    (the highest id, see ``Conversation.newest_thread``), and a long conversation carries every thread's
    HTML.
    """
    if not isinstance(data, Mapping):
        raise PayloadError("invalid_payload", "the body must be a JSON object (a FreeScout conversation)")
    embedded = _obj(data, "_embedded")
    raw_threads = _list(embedded, "threads")
    if newest_thread_only and raw_threads:
        raw_threads = [max(raw_threads, key=_raw_id)]
    threads = tuple(t for t in map(_thread, raw_threads) if t)
    fields = tuple(f for f in map(_custom_field, _list(data, "customFields")) if f is not None)
    customer = _obj(data, "customer")
    return Conversation(
        id=_int(data, "id"),
        number=_int(data, "number", required=False) or _int(data, "id"),
        mailbox_id=_int(data, "mailboxId"),
        status=_str(data, "status"),
        state=_str(data, "state"),
        subject=_str(data, "subject"),
        customer_email=_str(customer, "email"),
        created_at=_str(data, "createdAt"),
        updated_at=_str(data, "updatedAt"),
        closed_at=_str(data, "closedAt"),
        threads=threads,
        custom_fields=fields,
        tags=_tags(embedded),
    )
