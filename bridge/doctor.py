"""The doctor's verdicts: pure functions from gathered facts to a checklist. No I/O here.

``bridge.doctor_gather`` asks FreeScout and GitHub the questions and fills a ``Facts``; ``evaluate`` turns
it into ``Check`` items, each failure carrying the fix an operator should apply. Keeping the two apart
means every verdict and every fix text is tested without a network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from bridge.vocab import (
    FIELD_GITHUB_ISSUE_URL,
    LABEL_CUSTOMER_REPORTED,
    LABEL_LINKED,
    LABEL_NEEDS_CONFIRM,
    LABEL_REGRESSION,
)

#: The FreeScout events to tick for every bridge webhook, in FreeScout's own order.
WEBHOOK_EVENTS: tuple[str, ...] = (
    "convo.created",
    "convo.assigned",
    "convo.status",
    "convo.moved",
    "convo.customer.reply.created",
    "convo.agent.reply.created",
    "convo.note.created",
    "convo.restored",
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
    config_error: str = ""
    settings_problems: tuple[str, ...] = ()
    autolink_enabled: bool = False
    routes: tuple[str, ...] = ()
    public_url: str = ""
    github_repository: str = ""
    github_auth_kind: str = "token"  # "token" or "app"
    freescout: Answer | None = None
    mailboxes: tuple[MailboxFacts, ...] | None = None
    all_mailboxes: bool = False  # the config lists none, so every mailbox was checked
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


# -- the checks -------------------------------------------------------------------------------------------

_VARIABLE_FIXES = {
    "FREESCOUT_URL": "set FREESCOUT_URL to FreeScout's root URL, e.g. https://help.example.com",
    "FREESCOUT_API_KEY": "copy the API Key from FreeScout → Manage → Settings → API & Webhooks",
    "FREESCOUT_WEBHOOK_SECRET": "copy the webhook Secret Key from FreeScout → Manage → Settings → "
    "API & Webhooks → Webhooks (runbooks/secret-rotation.md)",
    "FREESCOUT_BOT_USER_ID": "create a FreeScout user for the bot and put its numeric id here",
    "GITHUB_REPOSITORY": "set GITHUB_REPOSITORY=owner/repo",
    "GITHUB_ISSUE_BOT_TOKEN": "set a fine-grained token, or the three GITHUB_APP_* variables "
    "(runbooks/github-auth.md)",
    "GitHub App": "set all three of GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID "
    "(runbooks/github-auth.md)",
    "GITHUB_APP_INSTALLATION_ID": "use the number at the end of the installation's settings URL",
    "SWEEP_INTERVAL_SECONDS": "use a number of seconds, or 0 to turn the in-process sweep off",
    "BRIDGE_CONFIG": "point BRIDGE_CONFIG at a readable TOML file, or unset it to use config/bridge.toml",
}


def _variable_fix(problem: str) -> str:
    for name, fix in _VARIABLE_FIXES.items():
        if problem.startswith(name):
            return fix
    return "see runbooks/deploy.md for every variable"


def check_settings(facts: Facts) -> list[Check]:
    checks = [
        Check(
            "config file",
            not facts.config_error,
            facts.config_error or f"{facts.config_path} parses",
            "fix the TOML named above (compare with config/bridge.toml in the repository)",
            Exit.USAGE,
        )
    ]
    problems = [p for p in facts.settings_problems if not p.startswith("BRIDGE_CONFIG")]
    if not problems:
        checks.append(Check("environment", True, "every required variable is present and well formed"))
    for problem in problems:
        checks.append(
            Check("environment", False, f"missing or invalid: {problem}", _variable_fix(problem), Exit.USAGE)
        )
    return checks


def check_flag(facts: Facts) -> Check:
    if facts.autolink_enabled:
        detail = "autolink is ON: matching conversations get a GitHub issue"
    else:
        detail = (
            "autolink is OFF (shadow mode): decisions are logged as would_link, nothing is written; "
            "set FLAG_FREESCOUT_GITHUB_AUTOLINK=true and restart to go live"
        )
    return Check("autolink flag", True, detail)


def _not_asked(name: str, why: str) -> Check:
    return Check(name, False, f"not checked: {why}", "fix the failures above, then run check again")


def _upstream_fix(api: str, answer: Answer) -> str:
    if answer.unreachable:
        where = "FREESCOUT_URL" if api == "freescout" else "GITHUB_API_URL (default https://api.github.com)"
        return f"make sure {where} is reachable from this host, then run check again"
    return answer.hint or "see the error above"


def check_freescout(facts: Facts) -> Check:
    answer = facts.freescout
    if answer is None:
        return _not_asked("freescout api", "the settings are incomplete")
    if answer.ok:
        return Check("freescout api", True, "FreeScout answers with this API key")
    if answer.status == 401:
        return Check(
            "freescout api",
            False,
            "FreeScout refused the API key (HTTP 401 Not Authorized)",
            "set FREESCOUT_API_KEY to the API Key in FreeScout → Manage → Settings → API & Webhooks "
            "(runbooks/secret-rotation.md)",
        )
    exit_code = Exit.UNREACHABLE if answer.unreachable else Exit.FAILED
    fix = _upstream_fix("freescout", answer)
    if answer.status == 404:
        fix = "FREESCOUT_URL must be FreeScout's root URL and the API & Webhooks module must be active"
    return Check("freescout api", False, f"FreeScout did not answer: {answer.why}", fix, exit_code)


def _mailbox_check(box: MailboxFacts) -> Check:
    name = f"mailbox {box.ref}"
    if box.mailbox_id is None:
        return Check(
            name,
            False,
            "FreeScout has no such mailbox",
            f"correct or remove {box.ref!s} in [autolink] mailboxes of the config file",
        )
    label = f"{box.name} (id {box.mailbox_id})" if box.name else f"id {box.mailbox_id}"
    if not box.fields.ok:
        fix = _upstream_fix("freescout", box.fields)
        if box.fields.status == 400:
            fix = "activate the Custom Fields module in FreeScout → Manage → Modules"
        exit_code = Exit.UNREACHABLE if box.fields.unreachable else Exit.FAILED
        return Check(
            name, False, f"{label}: custom fields could not be read: {box.fields.why}", fix, exit_code
        )
    if box.field_id is None:
        return Check(
            name,
            False,
            f"{label} has no {FIELD_GITHUB_ISSUE_URL} custom field",
            f"in FreeScout → Manage → Mailboxes → {box.name or box.mailbox_id} → Custom Fields, add a "
            f"Single Line field named {FIELD_GITHUB_ISSUE_URL} (or drop this mailbox from [autolink] mailboxes)",
        )
    return Check(name, True, f"{label}: {FIELD_GITHUB_ISSUE_URL} is custom field id {box.field_id}")


def check_mailboxes(facts: Facts) -> list[Check]:
    if facts.mailboxes is None:
        return [_not_asked("mailboxes", "FreeScout did not answer")]
    if not facts.mailboxes:
        return [Check("mailboxes", False, "FreeScout lists no mailboxes", "create a mailbox in FreeScout")]
    return [_mailbox_check(box) for box in facts.mailboxes]


def check_bot_user(facts: Facts) -> Check:
    name = f"bot user {facts.bot_user_id}"
    answer = facts.bot_user
    if answer is None:
        return _not_asked(name, "FreeScout did not answer")
    if answer.ok:
        who = f" ({facts.bot_user_name})" if facts.bot_user_name else ""
        return Check(name, True, f"FreeScout user {facts.bot_user_id}{who} exists")
    if answer.status == 404:
        return Check(
            name,
            False,
            f"FreeScout has no user {facts.bot_user_id}",
            "create a user for the bot (Manage → Users) and set FREESCOUT_BOT_USER_ID to its id",
        )
    exit_code = Exit.UNREACHABLE if answer.unreachable else Exit.FAILED
    return Check(
        name, False, f"could not read the user: {answer.why}", _upstream_fix("freescout", answer), exit_code
    )


def check_github(facts: Facts) -> Check:
    name = f"github repository {facts.github_repository}"
    answer = facts.github
    if answer is None:
        return _not_asked(name, "the settings are incomplete")
    if answer.ok:
        return Check(name, True, "the credentials work and the repository exists")
    fixes = {
        401: "the token or GitHub App credentials are wrong or expired: issue new ones (runbooks/github-auth.md)",
        403: "the credentials may not read this repository: grant Issues read/write and Metadata read "
        "(runbooks/github-auth.md)",
        404: "check GITHUB_REPOSITORY, and that the token (or App installation) covers this repository",
        422: "the GitHub App installation does not grant Issues: write; update its permissions and "
        "accept them on the installation (runbooks/github-auth.md)",
    }
    exit_code = Exit.UNREACHABLE if answer.unreachable else Exit.FAILED
    fix = fixes.get(answer.status or 0) or _upstream_fix("github", answer)
    verb = "did not answer" if answer.unreachable else "refused"
    return Check(name, False, f"GitHub {verb}: {answer.why}", fix, exit_code)


def check_permissions(facts: Facts) -> Check:
    name = "github issues permission"
    if facts.repo is None:
        return _not_asked(name, "GitHub did not answer")
    if facts.repo.get("has_issues") is False:
        return Check(
            name, False, "issues are disabled in the repository", "enable Issues in the repository settings"
        )
    perms = facts.repo.get("permissions")
    if facts.github_auth_kind == "app":
        return Check(name, True, "the App installation granted the Issues: write token the bridge asked for")
    if isinstance(perms, Mapping) and perms:
        if perms.get("push") or perms.get("admin") or perms.get("maintain"):
            return Check(name, True, "push access: the token can create, label and comment on issues")
        if perms.get("triage"):
            return Check(
                name,
                True,
                "triage access: issues can be written, but GitHub drops labels given at creation without "
                "push access; grant Write if issues arrive without labels",
            )
        return Check(
            name,
            False,
            "read-only access: the token cannot create issues",
            "give the token's owner Write on the repository and the token Issues: Read and write "
            "(runbooks/github-auth.md)",
        )
    scopes = facts.oauth_scopes
    if scopes is not None and not ({"repo", "public_repo"} & set(scopes)):
        return Check(
            name,
            False,
            f"classic token without the repo scope (scopes: {', '.join(scopes) or 'none'})",
            "use a fine-grained token with Issues: Read and write (runbooks/github-auth.md)",
        )
    return Check(
        name,
        True,
        "the repository is readable; GitHub does not report this token's Issues permission, so make sure "
        "it is Issues: Read and write (a 403 on the first link names the missing permission)",
    )


def check_labels(facts: Facts) -> Check:
    name = "github labels"
    if facts.labels_present is None:
        why = facts.labels_answer.why if facts.labels_answer else "GitHub did not answer"
        answer = facts.labels_answer
        if answer is not None and not answer.ok:
            code = Exit.UNREACHABLE if answer.unreachable else Exit.FAILED
            return Check(
                name, False, f"labels could not be listed: {why}", _upstream_fix("github", answer), code
            )
        return _not_asked(name, why)
    missing = [n for n in facts.labels_wanted if n.lower() not in facts.labels_present]
    created = ", ".join(facts.labels_created)
    if facts.label_failures:
        failed = "; ".join(f"{k}: {v}" for k, v in facts.label_failures.items())
        return Check(
            name,
            False,
            f"could not create {failed}",
            "create them by hand under Issues → Labels, or give the token Issues: Read and write",
        )
    if missing:
        return Check(
            name,
            False,
            "missing: " + ", ".join(missing),
            "run `freescout-bridge check --fix` to create them (the only thing --fix writes)",
        )
    detail = "all present: " + ", ".join(facts.labels_wanted)
    return Check(name, True, detail + (f" (created now: {created})" if created else ""))


def check_webhooks(facts: Facts) -> Check:
    name = "freescout webhooks"
    if not facts.public_url:
        paths = ", ".join(WEBHOOK_PATH.format(route=r) for r in facts.routes)
        return Check(
            name,
            True,
            f"paths {paths}; pass --public-url (or set BRIDGE_PUBLIC_URL) for the full URLs; events listed below",
        )
    if not facts.public_url.startswith(("https://", "http://")):
        return Check(
            name,
            False,
            f"the public URL {facts.public_url!r} is not an http(s) URL",
            "pass --public-url https://bridge.example.com (the address FreeScout can reach)",
        )
    urls = webhook_urls(facts.public_url, facts.routes)
    too_long = [u for u in urls if len(u) > FREESCOUT_URL_LIMIT]
    if too_long:
        return Check(
            name,
            False,
            f"FreeScout stores at most {FREESCOUT_URL_LIMIT} characters; too long: {too_long[0]}",
            "use a shorter public host name or path",
        )
    warn = "" if facts.public_url.startswith("https://") else "; plain http: use https in production"
    return Check(
        name, True, f"{len(urls)} webhook URL(s) and {len(WEBHOOK_EVENTS)} events, listed below{warn}"
    )


def evaluate(facts: Facts) -> list[Check]:
    """The whole checklist, in the order an operator fixes things."""
    checks = check_settings(facts)
    if facts.settings_problems or facts.config_error:
        return checks
    checks.append(check_flag(facts))
    checks.append(check_freescout(facts))
    checks.extend(check_mailboxes(facts))
    checks.append(check_bot_user(facts))
    checks.append(check_github(facts))
    checks.append(check_permissions(facts))
    checks.append(check_labels(facts))
    checks.append(check_webhooks(facts))
    return checks


def exit_code(checks: list[Check]) -> Exit:
    """0 when everything passes; else settings (2) before unreachable (3) before any other failure (1)."""
    failed = {c.exit for c in checks if not c.ok}
    for code in (Exit.USAGE, Exit.UNREACHABLE, Exit.FAILED):
        if code in failed:
            return code
    return Exit.OK
