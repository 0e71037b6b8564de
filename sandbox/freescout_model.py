"""Entities and small helpers of the local FreeScout simulator (no I/O)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

Clock = Callable[[], datetime]
PersonRef = tuple[str, int]  # ("user" | "customer", id)

STATUSES = ("active", "pending", "closed", "spam")
TYPES = ("email", "phone", "chat", "custom")
TAG_NAME_MAX = 191
_FOLDER_OFFSETS = {"deleted": 2, "spam": 3, "unassigned": 4, "assigned": 6, "drafts": 8, "closed": 9}


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def fmt_time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime | None:
    """Parse ``YYYY-MM-DDThh:mm:ssZ`` (or any ISO form); None when unparsable."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def normalize_tag(name: object) -> str:
    """Tags module: trim (Unicode spaces too), then lower-case; non-strings give ''."""
    if isinstance(name, bool) or not isinstance(name, str | int | float):
        return ""
    return str(name).strip().lower()


def lenient(value: object, allowed: tuple[str, ...], default: str) -> str:
    """FreeScout maps unknown enum strings silently to a default."""
    return value if isinstance(value, str) and value in allowed else default


def text_preview(body: str | None, limit: int = 255) -> str:
    text = re.sub(r"<[^>]*>", " ", body or "")
    return re.sub(r"\s+", " ", html.unescape(text)).strip()[:limit]


@dataclass
class User:
    id: int
    first_name: str
    last_name: str
    email: str
    role: str = "user"
    job_title: str = ""
    created_at: datetime = field(default_factory=utc_now)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class Customer:
    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    created_at: datetime = field(default_factory=utc_now)

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or (self.email or "Customer")


@dataclass
class Mailbox:
    id: int
    name: str
    email: str
    created_at: datetime = field(default_factory=utc_now)


@dataclass
class CustomField:
    id: int
    mailbox_id: int
    name: str
    type: str = "singleline"
    options: dict[str, str] | str = ""
    required: bool = False
    sort_order: int = 1


@dataclass
class Tag:
    id: int
    name: str
    color: int = 0


@dataclass
class Thread:
    id: int
    type: str  # customer | message | note | lineitem
    status: str
    body: str | None
    created_by: PersonRef
    customer_id: int | None
    source_type: str  # email | web | api
    action_type: str = ""
    action_text: str = ""
    state: str = "published"
    assigned_to: int | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=utc_now)

    @property
    def source_via(self) -> str:
        return self.created_by[0]


@dataclass
class Conversation:
    id: int
    number: int
    type: str
    mailbox_id: int
    subject: str
    customer_id: int
    created_by: PersonRef
    source_type: str
    status: str = "active"
    state: str = "published"
    preview: str = ""
    assignee_id: int | None = None
    closed_by: int | None = None
    closed_at: datetime | None = None
    user_updated_at: datetime | None = None
    last_reply_at: datetime | None = None
    last_reply_from: str = ""
    imported: bool = False
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)  # oldest first
    custom_values: dict[int, str] = field(default_factory=dict)
    tag_ids: list[int] = field(default_factory=list)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    def folder_id(self) -> int:
        if self.state == "deleted":
            kind = "deleted"
        elif self.state == "draft":
            kind = "drafts"
        elif self.status in ("closed", "spam"):
            kind = self.status
        else:
            kind = "assigned" if self.assignee_id else "unassigned"
        return (self.mailbox_id - 1) * 10 + _FOLDER_OFFSETS[kind]

    def published_threads(self) -> list[Thread]:
        return [t for t in self.threads if t.state == "published"]


class StoreError(Exception):
    """A 400-class failure; ``path`` names the offending parameter as FreeScout does."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def as_int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1


def field_value(cf: CustomField, value: object) -> str | None:
    """Custom Fields module conversions: everything is stored as a string."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value if v is not None)
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    if cf.type == "date" and parse_time(text + "T00:00:00Z") is None:
        return None
    return text
