"""Direction B's settings, read once from the Actions step environment.

``load_actions_config(env, need_ticket=...)`` takes the environment as an argument, so tests never touch
``os.environ``. Secrets are wrapped in ``Secret`` and never print. A missing or malformed value is reported
by the name of the secret or repository variable the user has to fix, all of them at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bridge.settings import MailboxRef, Secret, env_flag, freescout_root_url, mailbox_ref

DEFAULT_GITHUB_API_URL = "https://api.github.com"


class ConfigError(Exception):
    """Settings are missing or malformed; ``problems`` maps each variable name to what is wrong."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {what}" for name, what in problems.items()))
        self.problems = dict(problems)


@dataclass(frozen=True)
class ActionsConfig:
    repository: str
    github_api_url: str
    github_token: Secret
    freescout_url: str
    freescout_api_key: Secret
    bot_user_id: int
    ops_mailbox: MailboxRef | None
    customer_email: str
    live: bool
    #: How long a write whose outcome is unknown may still land (``bridge.in_doubt``): this run keeps
    #: looking for it that long, inside the job, before it fails the step instead of risking a twin.
    in_doubt_freescout_seconds: float = 90.0
    in_doubt_github_seconds: float = 30.0
    freescout_timeout_seconds: float = 10.0
    github_timeout_seconds: int = 10  # PyGithub takes whole seconds only

    def secrets(self) -> list[str]:
        return [s for s in (self.github_token.reveal(), self.freescout_api_key.reveal()) if s]


def _get(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


#: Optional overrides (seconds): the in-doubt windows, for FreeScout behind a slower proxy, and the
#: per-request timeouts of the two clients.
SECONDS_DEFAULTS = {
    "FREESCOUT_IN_DOUBT_SECONDS": 90.0,
    "GITHUB_IN_DOUBT_SECONDS": 30.0,
    "FREESCOUT_TIMEOUT_SECONDS": 10.0,
    "GITHUB_TIMEOUT_SECONDS": 10.0,
}


def _seconds(env: Mapping[str, str], name: str, default: float, problems: dict[str, str]) -> float:
    text = _get(env, name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 600:
        problems[name] = "must be a number of seconds from 0 to 600"
    return value


def is_live(env: Mapping[str, str]) -> bool:
    """The flag from the repository variable: off (or unset) means shadow mode, reads only."""
    return env_flag(env.get("FLAG_FREESCOUT_GITHUB_AUTOLINK"))


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The values to mask with ``::add-mask::`` before anything else is printed."""
    return [v for v in (_get(env, "GITHUB_TOKEN"), _get(env, "FREESCOUT_API_KEY")) if v]


def repository_of(env: Mapping[str, str], payload_repository: str = "") -> str:
    return _get(env, "GITHUB_REPOSITORY") or payload_repository


def parse_mailbox(value: str) -> MailboxRef | None:
    """The ops mailbox, read by the bridge's one mailbox parser; ``None`` when it is no id or email."""
    try:
        return mailbox_ref(value)
    except ValueError:
        return None


def load_actions_config(
    env: Mapping[str, str], *, need_ticket: bool, payload_repository: str = ""
) -> ActionsConfig:
    """Validate what this run needs; raise ``ConfigError`` naming every variable to fix.

    ``need_ticket`` adds the two settings only ticket creation uses (mailbox and customer address).
    """
    problems: dict[str, str] = {}
    repo = repository_of(env, payload_repository)
    if repo.count("/") != 1 or not all(repo.split("/")):
        problems["GITHUB_REPOSITORY"] = "must look like owner/repo"
    token = _get(env, "GITHUB_TOKEN")
    if not token:
        problems["GITHUB_TOKEN"] = "is empty: add `GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` to the step env"  # noqa: S105
    url = _get(env, "FREESCOUT_URL") or _get(env, "FREESCOUT_API_URL")
    if not url:
        problems["FREESCOUT_URL"] = "is empty: set the FreeScout root URL (or FREESCOUT_API_URL)"
    elif not url.startswith(("http://", "https://")):
        problems["FREESCOUT_URL"] = "must start with http:// or https://"
    key = _get(env, "FREESCOUT_API_KEY")
    if not key:
        problems["FREESCOUT_API_KEY"] = "is empty: add the FreeScout API key as a repository secret"
    bot = _get(env, "FREESCOUT_BOT_USER_ID")
    if not bot.isdigit():
        problems["FREESCOUT_BOT_USER_ID"] = "must be the numeric id of the FreeScout bot user"
    mailbox = parse_mailbox(_get(env, "FREESCOUT_OPS_MAILBOX"))
    customer = _get(env, "FREESCOUT_TICKET_CUSTOMER_EMAIL")
    if need_ticket:
        if mailbox is None:
            problems["FREESCOUT_OPS_MAILBOX"] = "must be the ops mailbox's email address or numeric id"
        if "@" not in customer or " " in customer:
            problems["FREESCOUT_TICKET_CUSTOMER_EMAIL"] = "must be the email address tickets are filed under"
    seconds = {name: _seconds(env, name, default, problems) for name, default in SECONDS_DEFAULTS.items()}
    for upstream in ("FREESCOUT", "GITHUB"):
        window, timeout = seconds[f"{upstream}_IN_DOUBT_SECONDS"], seconds[f"{upstream}_TIMEOUT_SECONDS"]
        if 0 <= window <= timeout:  # a write that timed out may land after a window this short: twins
            problems[f"{upstream}_IN_DOUBT_SECONDS"] = (
                f"must be longer than {upstream}_TIMEOUT_SECONDS ({timeout:g} s), or a write that timed out "
                "could be sent again before it lands"
            )
    if problems:
        raise ConfigError(problems)
    return ActionsConfig(
        repository=repo,
        github_api_url=(_get(env, "GITHUB_API_URL") or DEFAULT_GITHUB_API_URL).rstrip("/"),
        github_token=Secret(token),
        freescout_url=freescout_root_url(url),
        freescout_api_key=Secret(key),
        bot_user_id=int(bot),
        ops_mailbox=mailbox,
        customer_email=customer.lower(),
        live=is_live(env),
        in_doubt_freescout_seconds=seconds["FREESCOUT_IN_DOUBT_SECONDS"],
        in_doubt_github_seconds=seconds["GITHUB_IN_DOUBT_SECONDS"],
        freescout_timeout_seconds=max(0.1, seconds["FREESCOUT_TIMEOUT_SECONDS"]),
        github_timeout_seconds=max(1, round(seconds["GITHUB_TIMEOUT_SECONDS"])),
    )
