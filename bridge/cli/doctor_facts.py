"""The doctor's vocabulary: the facts it gathers, the checklist items it returns, the exit codes.

Plain values only; the verdicts are in ``bridge.cli.doctor`` (FreeScout, settings, webhooks) and
``bridge.cli.doctor_github``, the I/O in ``bridge.cli.doctor_gather``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from bridge.vocab import (
    LABEL_CUSTOMER_REPORTED,
    LABEL_LINKED,
    LABEL_NEEDS_CONFIRM,
    LABEL_REGRESSION,
)

WEBHOOK_PATH = "/api/webhooks/freescout/{route}"
FREESCOUT_URL_LIMIT = 255  # FreeScout stores the webhook URL in a 255-character column

#: Colour and description of each label the bridge applies, used by ``check --fix``.
LABEL_STYLE: Mapping[str, tuple[str, str]] = {
    LABEL_LINKED: ("0e8a16", "Opened from a FreeScout conversation by freescout-github-bridge"),
    LABEL_CUSTOMER_REPORTED: ("d93f0b", "A customer reported this (file a FreeScout ticket)"),
    LABEL_REGRESSION: ("b60205", "Worked before, broken now"),
    LABEL_NEEDS_CONFIRM: ("fbca04", "Ask the customer to confirm the fix"),
}
DEFAULT_LABEL_STYLE = ("c5def5", "Applied by freescout-github-bridge")


class Exit(IntEnum):
    """Exit codes shared by every sub-command (documented in ``--help`` and the runbooks)."""

    OK = 0
    FAILED = 1  # a check failed, or the decision could not be carried out
    USAGE = 2  # bad arguments, or missing/invalid settings
    UNREACHABLE = 3  # FreeScout or GitHub did not answer (network, timeout, 5xx, rate limit)


@dataclass(frozen=True)
class Check:
    """One line of the checklist. ``fix`` says what to do when ``ok`` is false."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    exit: Exit = Exit.FAILED  # the exit code this check forces when it fails

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "fix": "" if self.ok else self.fix}


@dataclass(frozen=True)
class Answer:
    """How one upstream question went: ``ok``, or why not (``reason``/``status``/``hint``)."""

    ok: bool
    reason: str = ""
    status: int | None = None
    hint: str = ""
    unreachable: bool = False  # transport error, timeout, 5xx or rate limit: nothing about config

    @property
    def why(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{self.reason}{status}" + (f": {self.hint}" if self.hint else "")


OK = Answer(True)


@dataclass(frozen=True)
class MailboxFacts:
    """One mailbox the bridge handles: whether FreeScout knows it and the id of its link field."""

    ref: str  # as configured (email or id), or the id when the config lists none
    mailbox_id: int | None
    name: str = ""
    field_id: int | None = None
    fields: Answer = OK  # the custom-fields read for this mailbox


@dataclass(frozen=True)
class Facts:
    """Everything the doctor learned. ``None`` means "not asked" (an earlier step failed)."""

    config_path: str
    config_absent: bool = False  # the default file is missing: every setting has its default
    config_error: str = ""
    settings_problems: Mapping[str, str] = field(default_factory=dict)  # variable -> what is wrong
    autolink_enabled: bool = False
    routes: tuple[str, ...] = ()
    public_url: str = ""
    github_repository: str = ""
    github_auth_kind: str = "token"  # "token" or "app"
    freescout: Answer | None = None
    mailboxes: tuple[MailboxFacts, ...] | None = None
    bot_user_id: int = 0
    bot_user: Answer | None = None
    bot_user_name: str = ""
    github: Answer | None = None
    repo: Mapping[str, Any] | None = None
    oauth_scopes: tuple[str, ...] | None = None
    labels_wanted: tuple[str, ...] = ()
    labels_present: frozenset[str] | None = None  # lower-cased names
    labels_answer: Answer | None = None
    labels_created: tuple[str, ...] = ()
    label_failures: Mapping[str, str] = field(default_factory=dict)
    github_webhook_secrets: tuple[int, ...] = ()  # the length of each GITHUB_WEBHOOK_SECRET value
    cutoff: str = ""  # cutoff.describe(...)
    cutoff_set: bool = False
    candidates: int | None = None  # tagged, unlinked, open conversations in the handled mailboxes
    held_back: int | None = None  # of which created before the cut-off
    oldest_age: str = ""  # the oldest candidate's age
    candidates_answer: Answer | None = None


def wanted_labels(tag_labels: Mapping[str, str]) -> tuple[str, ...]:
    """Every label the bridge applies, each once: the loop guard, the mapped tags and Direction B's."""
    names = [
        LABEL_LINKED,
        *tag_labels.values(),
        LABEL_CUSTOMER_REPORTED,
        LABEL_REGRESSION,
        LABEL_NEEDS_CONFIRM,
    ]
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.strip().lower(), name.strip())
    return tuple(v for v in seen.values() if v)


def label_style(name: str) -> tuple[str, str]:
    return LABEL_STYLE.get(name, DEFAULT_LABEL_STYLE)


def webhook_urls(public_url: str, routes: tuple[str, ...]) -> list[str]:
    base = public_url.strip().rstrip("/")
    return [base + WEBHOOK_PATH.format(route=r) for r in routes]


def not_asked(name: str, why: str) -> Check:
    return Check(name, False, f"not checked: {why}", "fix the failures above, then run check again")


def upstream_fix(api: str, answer: Answer) -> str:
    if answer.unreachable:
        where = "FREESCOUT_URL" if api == "freescout" else "GITHUB_API_URL (default https://api.github.com)"
        return f"make sure {where} is reachable from this host, then run check again"
    return answer.hint or "see the error above"
