"""The doctor's verdicts: pure functions from gathered facts to a checklist. No I/O here.

``bridge.cli.doctor_gather`` asks FreeScout and GitHub the questions and fills a ``Facts``; ``evaluate`` turns
it into ``Check`` items, each failure carrying the fix an operator should apply. Keeping the two apart
means every verdict and every fix text is tested without a network.
"""

from __future__ import annotations

from bridge.cli.doctor_facts import (
    FREESCOUT_URL_LIMIT,
    OK,
    WEBHOOK_PATH,
    Answer,
    Check,
    Exit,
    Facts,
    MailboxFacts,
    label_style,
    not_asked,
    upstream_fix,
    wanted_labels,
    webhook_urls,
)
from bridge.cli.doctor_github import check_github, check_labels, check_permissions
from bridge.vocab import FIELD_GITHUB_ISSUE_URL, WEBHOOK_EVENTS

__all__ = [
    "GITHUB_WEBHOOK_EVENTS",
    "OK",
    "WEBHOOK_EVENTS",
    "WEBHOOK_PATH",
    "Answer",
    "Check",
    "Exit",
    "Facts",
    "MailboxFacts",
    "evaluate",
    "exit_code",
    "github_webhook_url",
    "label_style",
    "wanted_labels",
    "webhook_urls",
]

#: What to do, per variable named in a settings problem.
_VARIABLE_FIXES = {
    "FREESCOUT_URL": "set FREESCOUT_URL to FreeScout's root URL, e.g. https://help.example.com",
    "FREESCOUT_API_KEY": "copy the API Key from FreeScout → Manage → Settings → API & Webhooks",
    "FREESCOUT_WEBHOOK_SECRET": "copy the webhook Secret Key from FreeScout → Manage → Settings → "
    "API & Webhooks → Webhooks (runbooks/secret-rotation.md)",
    "FREESCOUT_BOT_USER_ID": "create a FreeScout user for the bot and put its numeric id here",
    "GITHUB_REPOSITORY": "set GITHUB_REPOSITORY=owner/repo",
    "GITHUB_ISSUE_BOT_TOKEN": "set a fine-grained token, or the three GITHUB_APP_* variables "
    "(runbooks/github-auth.md)",
    "GITHUB_APP_ID": "set all three of GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID "
    "(runbooks/github-auth.md)",
    "GITHUB_APP_PRIVATE_KEY": "paste the whole .pem file GitHub gave you; all three GITHUB_APP_* variables "
    "are needed (runbooks/github-auth.md)",
    "GITHUB_APP_INSTALLATION_ID": "use the number at the end of the installation's settings URL",
    "SWEEP_INTERVAL_SECONDS": "use a number of seconds, or 0 to turn the in-process sweep off",
    "BRIDGE_CONFIG": "point BRIDGE_CONFIG at a readable TOML file, or unset it to use config/bridge.toml",
}


def _config_detail(facts: Facts) -> str:
    if facts.config_error:
        return facts.config_error
    if facts.config_absent:
        return f"{facts.config_path} not found: defaults apply"
    return f"{facts.config_path} parses"


def check_settings(facts: Facts) -> list[Check]:
    checks = [
        Check(
            "config file",
            not facts.config_error,
            _config_detail(facts),
            "fix the TOML named above (compare with config/bridge.toml in the repository)",
            Exit.USAGE,
        )
    ]
    problems = {k: v for k, v in facts.settings_problems.items() if k != "BRIDGE_CONFIG"}
    if not problems:
        checks.append(Check("environment", True, "every required variable is present and well formed"))
    for variable, problem in problems.items():
        fix = _VARIABLE_FIXES.get(variable, "see runbooks/deploy.md for every variable")
        checks.append(Check("environment", False, f"missing or invalid: {problem}", fix, Exit.USAGE))
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


def check_freescout(facts: Facts) -> Check:
    answer = facts.freescout
    if answer is None:
        return not_asked("freescout api", "the settings are incomplete")
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
    fix = upstream_fix("freescout", answer)
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
        fix = upstream_fix("freescout", box.fields)
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
        return [not_asked("mailboxes", "FreeScout did not answer")]
    if not facts.mailboxes:
        return [Check("mailboxes", False, "FreeScout lists no mailboxes", "create a mailbox in FreeScout")]
    return [_mailbox_check(box) for box in facts.mailboxes]


def check_bot_user(facts: Facts) -> Check:
    name = f"bot user {facts.bot_user_id}"
    answer = facts.bot_user
    if answer is None:
        return not_asked(name, "FreeScout did not answer")
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
        name, False, f"could not read the user: {answer.why}", upstream_fix("freescout", answer), exit_code
    )


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


GITHUB_WEBHOOK_PATH = "/api/webhooks/github"
#: What to tick in GitHub → Settings → Webhooks → "Let me select individual events".
GITHUB_WEBHOOK_EVENTS = ("Issues", "Issue comments")
MIN_SECRET_LENGTH = 16


def github_webhook_url(public_url: str) -> str:
    return public_url.rstrip("/") + GITHUB_WEBHOOK_PATH if public_url else GITHUB_WEBHOOK_PATH


def check_github_webhook(facts: Facts) -> Check:
    """``GITHUB_WEBHOOK_SECRET``: optional (the Actions transport needs none), strong when set."""
    name = "github webhook"
    if not facts.github_webhook_secrets:
        return Check(
            name,
            True,
            f"off: GITHUB_WEBHOOK_SECRET is unset, so {GITHUB_WEBHOOK_PATH} answers 404; set it to take "
            "GitHub's events on this process, or use the Actions route (runbooks/close-the-loop.md)",
        )
    if min(facts.github_webhook_secrets) < MIN_SECRET_LENGTH:
        return Check(
            name,
            False,
            f"a GITHUB_WEBHOOK_SECRET value is shorter than {MIN_SECRET_LENGTH} characters",
            "use a random secret, e.g. `openssl rand -hex 32`, in GitHub's webhook and in GITHUB_WEBHOOK_SECRET",
        )
    count = len(facts.github_webhook_secrets)
    rotating = f" ({count} secrets: rotation in progress)" if count > 1 else ""
    return Check(name, True, f"on{rotating}: URL and events to register in GitHub listed below")


def check_cutoff(facts: Facts) -> Check:
    """Informational: what the first sweep after switching on would link, and what the cut-off keeps back."""
    if facts.candidates is None:
        why = facts.candidates_answer.why if facts.candidates_answer else "FreeScout was not asked"
        return Check("link cut-off", True, f"{facts.cutoff}; candidates not counted ({why})")
    todo = facts.candidates - (facts.held_back or 0)
    detail = (
        f"{facts.cutoff}; {facts.candidates} tagged unlinked conversation(s)"
        + (f" (oldest {facts.oldest_age})" if facts.oldest_age else "")
        + f", {facts.held_back} held back, {todo} the sweep would link"
    )
    if not facts.cutoff_set and facts.candidates:
        detail += (
            "; set [autolink] link_since (or max_age_days) before switching on unless all of them "
            "should get an issue (runbooks/autolink-rollout.md)"
        )
    return Check("link cut-off", True, detail)


def evaluate(facts: Facts) -> list[Check]:
    """The whole checklist, in the order an operator fixes things."""
    checks = check_settings(facts)
    if facts.settings_problems or facts.config_error:
        return checks
    checks.append(check_flag(facts))
    checks.append(check_freescout(facts))
    checks.extend(check_mailboxes(facts))
    if facts.freescout is not None and facts.freescout.ok:
        checks.append(check_cutoff(facts))
    checks.append(check_bot_user(facts))
    checks.append(check_github(facts))
    checks.append(check_permissions(facts))
    checks.append(check_labels(facts))
    checks.append(check_webhooks(facts))
    checks.append(check_github_webhook(facts))
    return checks


def exit_code(checks: list[Check]) -> Exit:
    """0 when everything passes; else settings (2) before unreachable (3) before any other failure (1)."""
    failed = {c.exit for c in checks if not c.ok}
    for code in (Exit.USAGE, Exit.UNREACHABLE, Exit.FAILED):
        if code in failed:
            return code
    return Exit.OK
