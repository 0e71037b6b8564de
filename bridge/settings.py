"""Settings, read once at start-up from the environment plus ``config/bridge.toml``.

Nothing here runs at import time; ``load_settings(environ)`` takes the environment as an argument so
tests never touch ``os.environ``. Secrets are wrapped so they never print, not even in a traceback.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from bridge.cutoff import cutoff_at, parse_link_since, parse_max_age_days

TRUE_WORDS = frozenset({"true", "1", "on", "yes"})
DEFAULT_CONFIG_PATH = "config/bridge.toml"

MailboxRef = int | str  # a FreeScout mailbox id, or its email address (lower-cased)


class SettingsError(Exception):
    """Start-up cannot go on; ``problems`` maps each variable to fix to what is wrong with it.

    The message lists every problem, each worded so that it names its variable.
    """

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("missing or invalid settings: " + "; ".join(self.problems.values()))


class Secret:
    """A string that never shows itself in ``repr``/``str``; call ``reveal()`` at the point of use."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def env_flag(value: str | None) -> bool:
    """``true``, ``1``, ``on`` or ``yes`` (any case) mean on; anything else, or unset, means off."""
    return (value or "").strip().lower() in TRUE_WORDS


def freescout_root_url(value: str) -> str:
    """Accept the root URL or the API URL, with or without ``/api`` and trailing slashes."""
    url = value.strip().rstrip("/")
    if url.endswith("/api"):
        url = url[: -len("/api")]
    return url.rstrip("/")


@dataclass(frozen=True)
class TokenAuth:
    """A fine-grained personal access token with Issues read/write on the repository."""

    token: Secret


@dataclass(frozen=True)
class AppAuth:
    """A GitHub App installation; PyGithub mints and refreshes the installation token."""

    app_id: str
    private_key: Secret
    installation_id: int


GitHubAuth = TokenAuth | AppAuth


@dataclass(frozen=True)
class KeywordScan:
    """Opt-in: a conversation whose subject or first message holds a keyword counts as tagged."""

    enabled: bool = False
    keywords: tuple[str, ...] = ()


class StatusPolicy(StrEnum):
    """What a GitHub lifecycle event does to each linked ticket. The bridge never closes a ticket."""

    NOTHING = "nothing"
    NOTE = "note"
    NOTE_AND_ACTIVATE = "note_and_activate"  # the note, and a pending ticket set back to active


@dataclass(frozen=True)
class ReturnPathConfig:
    """``[return_path]``: how GitHub → FreeScout treats each event, the demand label, the catch-up window."""

    on_completed: StatusPolicy = StatusPolicy.NOTE_AND_ACTIVATE
    on_not_planned: StatusPolicy = StatusPolicy.NOTE
    on_duplicate: StatusPolicy = StatusPolicy.NOTE
    on_reopened: StatusPolicy = StatusPolicy.NOTE
    demand_label: str = "customer-demand"
    demand_label_threshold: int = 3  # waiting tickets; 0 = never label
    catch_up_hours: float = 72.0


@dataclass(frozen=True)
class BridgeConfig:
    """The operator's choices from ``config/bridge.toml``; every field has a safe default."""

    routes: tuple[str, ...] = ("ops", "support")
    tags: tuple[str, ...] = ("bug", "feature_request", "auto:status")
    mailboxes: tuple[MailboxRef, ...] = ()
    tag_labels: Mapping[str, str] = field(
        default_factory=lambda: {"bug": "bug", "feature_request": "enhancement"}
    )
    keyword_scan: KeywordScan = KeywordScan()
    include_customer_email: bool = False
    max_body_bytes: int = 1024 * 1024
    body_read_timeout_seconds: float = 10.0
    delivery_deadline_seconds: float = 8.0
    freescout_timeout_seconds: float = 5.0
    github_timeout_seconds: int = 5  # PyGithub takes whole seconds only
    answer_within_seconds: float = 9.5
    github_write_spacing_seconds: float = 1.0
    github_content_per_minute: int = 60
    github_content_per_hour: int = 400
    #: How long a write whose outcome is unknown stays in doubt (only looked for), per upstream: longer
    #: than the upstream's worst-case request time (GitHub gives up at 10 s; PHP's limit is 30 s and a
    #: proxy in front of FreeScout often allows 60 s). See ``bridge.in_doubt``.
    in_doubt_github_seconds: float = 30.0
    in_doubt_freescout_seconds: float = 90.0
    sweep_interval_seconds: float = 300.0
    return_path: ReturnPathConfig = ReturnPathConfig()
    link_since: datetime | None = None  # the cut-off (bridge/cutoff.py); None and 0 mean none
    max_age_days: float = 0.0

    def cutoff(self, now: datetime) -> datetime | None:
        """Conversations created before this instant are held back (``None``: no cut-off)."""
        return cutoff_at(self.link_since, self.max_age_days, now)


@dataclass(frozen=True)
class Settings:
    """Everything the web service needs, validated."""

    freescout_url: str
    freescout_api_key: Secret
    webhook_secrets: tuple[Secret, ...]
    bot_user_id: int
    github_repository: str
    github_api_url: str
    github_auth: GitHubAuth
    autolink_enabled: bool
    config: BridgeConfig
    admin_token: Secret | None = None
    #: ``GITHUB_WEBHOOK_SECRET`` (comma-separated while rotating): empty = no GitHub webhook route.
    github_webhook_secrets: tuple[Secret, ...] = ()
    #: ``GITHUB_BRIDGE_LOGIN``: the GitHub account(s) the bridge writes as; their comments never reach
    #: FreeScout (the second lock beside the hidden marker). Optional: the marker alone also stops echoes.
    github_bridge_logins: tuple[str, ...] = ()

    def secrets(self) -> list[str]:
        """Every secret value, for the log redactor."""
        values = [self.freescout_api_key.reveal(), *(s.reveal() for s in self.webhook_secrets)]
        values.extend(s.reveal() for s in self.github_webhook_secrets)
        if self.admin_token is not None:
            values.append(self.admin_token.reveal())
        if isinstance(self.github_auth, TokenAuth):
            values.append(self.github_auth.token.reveal())
        else:
            values.append(self.github_auth.private_key.reveal())
        return [v for v in values if v]


def shadow(settings: Settings) -> Settings:
    """The same settings with autolink off: a linker built on them decides and reports, and writes nothing."""
    return replace(settings, autolink_enabled=False)


def _get(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def _is_private_key(pem: str) -> bool:
    """A local parse only (no I/O): a broken key should stop start-up, not fail the first delivery."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        return False
    return isinstance(key, RSAPrivateKey)  # GitHub App keys are RSA; PyJWT's RS256 takes nothing else


def _problem(problems: dict[str, str], variable: str, problem: str = "") -> None:
    """Record what is wrong with ``variable``; its bare name means it is missing."""
    problems[variable] = problem or variable


def _github_auth(env: Mapping[str, str], problems: dict[str, str]) -> GitHubAuth | None:
    token = _get(env, "GITHUB_ISSUE_BOT_TOKEN")
    app_names = ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_INSTALLATION_ID")
    app_values = [_get(env, n) for n in app_names]
    if token:
        return TokenAuth(Secret(token))
    if all(app_values):
        if not app_values[2].isdigit():
            _problem(problems, "GITHUB_APP_INSTALLATION_ID", "GITHUB_APP_INSTALLATION_ID must be a number")
            return None
        key = app_values[1].replace("\\n", "\n")
        if not _is_private_key(key):
            _problem(
                problems,
                "GITHUB_APP_PRIVATE_KEY",
                "GITHUB_APP_PRIVATE_KEY is not a PEM RSA private key (paste the whole .pem file GitHub gave you)",
            )
            return None
        return AppAuth(app_values[0], Secret(key), int(app_values[2]))
    missing_app = [n for n, v in zip(app_names, app_values, strict=True) if not v]
    if any(app_values):
        _problem(
            problems,
            missing_app[0],
            "GitHub App credentials are incomplete: missing " + ", ".join(missing_app),
        )
    else:
        _problem(
            problems,
            "GITHUB_ISSUE_BOT_TOKEN",
            "GITHUB_ISSUE_BOT_TOKEN (or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID)",
        )
    return None


def load_settings(env: Mapping[str, str], config: BridgeConfig | None = None) -> Settings:
    """Validate the environment; raise ``SettingsError`` naming every missing or malformed variable."""
    problems: dict[str, str] = {}
    fs_url = _get(env, "FREESCOUT_URL") or _get(env, "FREESCOUT_API_URL")
    if not fs_url:
        _problem(problems, "FREESCOUT_URL", "FREESCOUT_URL (or FREESCOUT_API_URL)")
    elif not fs_url.startswith(("http://", "https://")):
        _problem(problems, "FREESCOUT_URL", "FREESCOUT_URL must start with http:// or https://")
    api_key = _get(env, "FREESCOUT_API_KEY")
    if not api_key:
        _problem(problems, "FREESCOUT_API_KEY")
    secrets = _secrets(env, "FREESCOUT_WEBHOOK_SECRET")
    if not secrets:
        _problem(problems, "FREESCOUT_WEBHOOK_SECRET")
    bot = _get(env, "FREESCOUT_BOT_USER_ID")
    if not bot:
        _problem(problems, "FREESCOUT_BOT_USER_ID")
    elif not bot.isdigit():
        _problem(
            problems, "FREESCOUT_BOT_USER_ID", "FREESCOUT_BOT_USER_ID must be a numeric FreeScout user id"
        )
    repo = _get(env, "GITHUB_REPOSITORY")
    if not repo:
        _problem(problems, "GITHUB_REPOSITORY")
    elif repo.count("/") != 1 or not all(repo.split("/")):
        _problem(problems, "GITHUB_REPOSITORY", "GITHUB_REPOSITORY must look like owner/repo")
    auth = _github_auth(env, problems)
    if config is None:
        try:
            config = load_config(Path(_get(env, "BRIDGE_CONFIG") or DEFAULT_CONFIG_PATH))
        except SettingsError as exc:
            problems.update(exc.problems)
    interval = _get(env, "SWEEP_INTERVAL_SECONDS")
    if interval and config is not None:
        try:
            config = replace(config, sweep_interval_seconds=max(0.0, float(interval)))
        except ValueError:
            _problem(
                problems,
                "SWEEP_INTERVAL_SECONDS",
                "SWEEP_INTERVAL_SECONDS must be a number of seconds (0 turns the sweep off)",
            )
    if problems or auth is None or config is None:
        raise SettingsError(problems)
    return Settings(
        freescout_url=freescout_root_url(fs_url),
        freescout_api_key=Secret(api_key),
        webhook_secrets=secrets,
        bot_user_id=int(bot),
        github_repository=repo,
        github_api_url=(_get(env, "GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        github_auth=auth,
        autolink_enabled=env_flag(env.get("FLAG_FREESCOUT_GITHUB_AUTOLINK")),
        config=config,
        admin_token=Secret(_get(env, "BRIDGE_ADMIN_TOKEN")) if _get(env, "BRIDGE_ADMIN_TOKEN") else None,
        github_webhook_secrets=_secrets(env, "GITHUB_WEBHOOK_SECRET"),
        github_bridge_logins=tuple(
            x.strip() for x in _get(env, "GITHUB_BRIDGE_LOGIN").split(",") if x.strip()
        ),
    )


def _secrets(env: Mapping[str, str], name: str) -> tuple[Secret, ...]:
    """A comma-separated secret list: two values while a secret rotates."""
    return tuple(Secret(s.strip()) for s in _get(env, name).split(",") if s.strip())


def load_config(path: Path) -> BridgeConfig:
    """Read ``config/bridge.toml``; a missing file means all defaults, a broken one is an error."""
    if not path.exists():
        if str(path) != DEFAULT_CONFIG_PATH:
            raise SettingsError({"BRIDGE_CONFIG": f"BRIDGE_CONFIG points at {path}, which does not exist"})
        return BridgeConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError({"BRIDGE_CONFIG": f"BRIDGE_CONFIG {path} does not parse: {exc}"}) from exc
    return config_from_mapping(data, source=str(path))


def config_from_mapping(data: Mapping[str, Any], source: str = "config") -> BridgeConfig:
    """Build a ``BridgeConfig`` from parsed TOML, checking each value's type."""
    defaults = BridgeConfig()
    autolink = dict(data.get("autolink", {}))
    webhooks = dict(data.get("webhooks", {}))
    limits = dict(data.get("limits", {}))
    github = dict(data.get("github", {}))
    keywords = dict(autolink.get("keyword_scan", {}))
    in_doubt: dict[str, Any] = dict(data.get("in_doubt", {}))
    # ``[github] unsure_write_seconds`` is the name this setting had before ``[in_doubt]``; still read.
    legacy_in_doubt: Any = github.get("unsure_write_seconds", defaults.in_doubt_github_seconds)
    legacy_in_doubt_freescout: Any = github.get("unsure_write_seconds", defaults.in_doubt_freescout_seconds)
    try:
        mailboxes = tuple(mailbox_ref(m) for m in autolink.get("mailboxes", defaults.mailboxes))
        return BridgeConfig(
            routes=tuple(_slug(r) for r in webhooks.get("routes", defaults.routes)),
            tags=tuple(str(t).strip().lower() for t in autolink.get("tags", defaults.tags)),
            mailboxes=mailboxes,
            tag_labels={
                str(k).strip().lower(): str(v)
                for k, v in github.get("tag_labels", defaults.tag_labels).items()
            },
            keyword_scan=KeywordScan(
                enabled=bool(keywords.get("enabled", False)),
                keywords=tuple(
                    str(k).strip().lower() for k in keywords.get("keywords", ()) if str(k).strip()
                ),
            ),
            include_customer_email=bool(github.get("include_customer_email", False)),
            max_body_bytes=int(limits.get("max_body_bytes", defaults.max_body_bytes)),
            body_read_timeout_seconds=float(
                limits.get("body_read_timeout_seconds", defaults.body_read_timeout_seconds)
            ),
            delivery_deadline_seconds=float(
                limits.get("delivery_deadline_seconds", defaults.delivery_deadline_seconds)
            ),
            freescout_timeout_seconds=float(
                limits.get("freescout_timeout_seconds", defaults.freescout_timeout_seconds)
            ),
            github_timeout_seconds=int(limits.get("github_timeout_seconds", defaults.github_timeout_seconds)),
            answer_within_seconds=float(limits.get("answer_within_seconds", defaults.answer_within_seconds)),
            github_write_spacing_seconds=float(
                github.get("write_spacing_seconds", defaults.github_write_spacing_seconds)
            ),
            github_content_per_minute=int(
                github.get("content_per_minute", defaults.github_content_per_minute)
            ),
            github_content_per_hour=int(github.get("content_per_hour", defaults.github_content_per_hour)),
            in_doubt_github_seconds=float(in_doubt.get("github_seconds", legacy_in_doubt)),
            in_doubt_freescout_seconds=float(in_doubt.get("freescout_seconds", legacy_in_doubt_freescout)),
            sweep_interval_seconds=float(
                data.get("sweep", {}).get("interval_seconds", defaults.sweep_interval_seconds)
            ),
            return_path=return_path_config(dict(data.get("return_path", {}))),
            link_since=parse_link_since(autolink.get("link_since")),
            max_age_days=parse_max_age_days(autolink.get("max_age_days", defaults.max_age_days)),
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise SettingsError({"BRIDGE_CONFIG": f"{source}: invalid value: {exc}"}) from exc


def return_path_config(section: Mapping[str, Any]) -> ReturnPathConfig:
    """The ``[return_path]`` table; an unknown policy word is an error naming the allowed ones."""
    d = ReturnPathConfig()
    policies = {key: _policy(key, section.get(key, getattr(d, key))) for key in _POLICY_KEYS}
    threshold = int(section.get("demand_label_threshold", d.demand_label_threshold))
    hours = float(section.get("catch_up_hours", d.catch_up_hours))
    if threshold < 0 or hours < 0:
        raise ValueError("return_path.demand_label_threshold and catch_up_hours must not be negative")
    return ReturnPathConfig(
        **policies,
        demand_label=str(section.get("demand_label", d.demand_label)).strip() or d.demand_label,
        demand_label_threshold=threshold,
        catch_up_hours=hours,
    )


_POLICY_KEYS = ("on_completed", "on_not_planned", "on_duplicate", "on_reopened")


def _policy(key: str, value: object) -> StatusPolicy:
    try:
        return StatusPolicy(str(value).strip().lower())
    except ValueError:
        allowed = " | ".join(p.value for p in StatusPolicy)
        raise ValueError(f"return_path.{key} = {value!r}: use {allowed}") from None


def mailbox_ref(value: object, *, names: bool = False) -> MailboxRef:
    """One mailbox, read the same way from the config, the Actions variable, ``--mailbox`` and the admin API.

    A numeric id (an int, or ASCII digits: ``"²".isdigit()`` is true but it is no id) or an email address,
    lower-cased. ``names`` keeps any other text too, lower-cased, for an operator's ad-hoc scope, which is
    then answered "FreeScout has no such mailbox"; a configured value must be an id or an email, so a typo
    stops start-up. Anything else raises ``ValueError`` naming the value.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            return int(text)
        email = "@" in text and not any(c.isspace() for c in text)
        if text and len(text) <= 254 and (email or names):
            return text.lower()
    raise ValueError(f"mailbox {value!r} must be an email or a numeric id")


def _slug(value: object) -> str:
    text = str(value).strip()
    if not text or not all(c.isalnum() or c in "-_" for c in text):
        raise ValueError(f"route name {text!r} may use letters, digits, - and _ only")
    return text
