"""Settings: every missing variable named at once, flag words, URL forms, rotation, the TOML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.settings import (
    AppAuth,
    BridgeConfig,
    SettingsError,
    TokenAuth,
    config_from_mapping,
    load_config,
    load_settings,
    mailbox_ref,
)

BASE = {
    "FREESCOUT_URL": "https://help.example.com/",
    "FREESCOUT_API_KEY": "k" * 32,
    "FREESCOUT_WEBHOOK_SECRET": "s" * 32,
    "FREESCOUT_BOT_USER_ID": "9",
    "GITHUB_REPOSITORY": "acme/app",
    "GITHUB_ISSUE_BOT_TOKEN": "github_pat_x",
}
ROOT = Path(__file__).resolve().parents[2]


def test_every_missing_variable_is_named() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({})
    message = str(caught.value)
    for name in (
        "FREESCOUT_URL",
        "FREESCOUT_API_KEY",
        "FREESCOUT_WEBHOOK_SECRET",
        "FREESCOUT_BOT_USER_ID",
        "GITHUB_REPOSITORY",
        "GITHUB_ISSUE_BOT_TOKEN",
    ):
        assert name in message


@pytest.mark.parametrize(
    ("value", "on"),
    [
        ("true", True),
        ("1", True),
        ("ON", True),
        (" yes ", True),
        ("false", False),
        ("", False),
        ("enabled", False),
        (None, False),
    ],
)
def test_flag_words(value: str | None, on: bool) -> None:
    env = dict(BASE)
    if value is not None:
        env["FLAG_FREESCOUT_GITHUB_AUTOLINK"] = value
    assert load_settings(env).autolink_enabled is on


@pytest.mark.parametrize(
    "url",
    [
        "https://help.example.com",
        "https://help.example.com/api",
        "https://help.example.com/api/",
        "https://help.example.com/",
    ],
)
def test_freescout_url_forms(url: str) -> None:
    env = {k: v for k, v in BASE.items() if k != "FREESCOUT_URL"} | {"FREESCOUT_API_URL": url}
    assert load_settings(env).freescout_url == "https://help.example.com"


def test_two_secrets_during_rotation_and_secrets_never_print() -> None:
    settings = load_settings(BASE | {"FREESCOUT_WEBHOOK_SECRET": "old-secret, new-secret"})
    assert [s.reveal() for s in settings.webhook_secrets] == ["old-secret", "new-secret"]
    assert "old-secret" not in repr(settings) and "k" * 32 not in repr(settings)
    assert isinstance(settings.github_auth, TokenAuth)


def test_the_github_webhook_secret_is_optional_rotates_and_is_redacted() -> None:
    assert load_settings(BASE).github_webhook_secrets == ()
    env = BASE | {"GITHUB_WEBHOOK_SECRET": "gh-old, gh-new", "GITHUB_BRIDGE_LOGIN": "issue-bot, x[bot]"}
    settings = load_settings(env)
    assert [s.reveal() for s in settings.github_webhook_secrets] == ["gh-old", "gh-new"]
    assert settings.github_bridge_logins == ("issue-bot", "x[bot]")
    assert {"gh-old", "gh-new"} <= set(settings.secrets()) and "gh-old" not in repr(settings)


def rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_github_app_credentials() -> None:
    env = {k: v for k, v in BASE.items() if k != "GITHUB_ISSUE_BOT_TOKEN"}
    pem = rsa_pem()
    one_line = pem.replace("\n", "\\n")  # how a .env file or a Heroku config var often carries it
    app = load_settings(
        env | {"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": one_line, "GITHUB_APP_INSTALLATION_ID": "42"}
    )
    assert isinstance(app.github_auth, AppAuth) and app.github_auth.installation_id == 42
    assert app.github_auth.private_key.reveal() == pem
    with pytest.raises(SettingsError, match="GITHUB_APP_INSTALLATION_ID"):
        load_settings(env | {"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": pem})
    with pytest.raises(SettingsError, match="GITHUB_APP_PRIVATE_KEY is not a PEM RSA private key"):
        load_settings(
            env | {"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": "nope", "GITHUB_APP_INSTALLATION_ID": "4"}
        )


def test_shipped_config_parses_to_the_defaults_it_documents() -> None:
    config = load_config(ROOT / "config" / "bridge.toml")
    assert config.tags == ("bug", "feature_request", "auto:status")
    assert dict(config.tag_labels) == {"bug": "bug", "feature_request": "enhancement"}
    assert config.routes == ("ops", "support")
    assert config.keyword_scan.enabled is False and config.include_customer_email is False
    assert config.max_body_bytes == 1024 * 1024


def test_config_values_are_checked() -> None:
    assert config_from_mapping({"autolink": {"mailboxes": ["Support@Example.com", 2, "3"]}}).mailboxes == (
        "support@example.com",
        2,
        3,
    )
    with pytest.raises(SettingsError, match="mailbox"):
        config_from_mapping({"autolink": {"mailboxes": ["not-an-email"]}})
    with pytest.raises(SettingsError, match="route"):
        config_from_mapping({"webhooks": {"routes": ["../x"]}})


def test_broken_or_missing_config_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "b.toml"
    broken.write_text("[autolink\n")
    with pytest.raises(SettingsError, match="does not parse"):
        load_settings(BASE | {"BRIDGE_CONFIG": str(broken)})
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(BASE | {"BRIDGE_CONFIG": str(tmp_path / "nope.toml")})


def test_return_path_defaults_match_the_shipped_config() -> None:
    from bridge.settings import ReturnPathConfig, StatusPolicy

    shipped = load_config(ROOT / "config" / "bridge.toml").return_path
    assert shipped == ReturnPathConfig() == config_from_mapping({}).return_path
    assert (shipped.on_completed, shipped.on_not_planned, shipped.on_reopened) == (
        StatusPolicy.NOTE_AND_ACTIVATE,
        StatusPolicy.NOTE,
        StatusPolicy.NOTE,
    )
    assert (shipped.demand_label, shipped.demand_label_threshold, shipped.catch_up_hours) == (
        "customer-demand",
        3,
        72.0,
    )


def test_return_path_section_is_read() -> None:
    from bridge.settings import StatusPolicy

    config = config_from_mapping(
        {
            "return_path": {
                "on_completed": "Note",
                "on_duplicate": "nothing",
                "on_reopened": "note_and_activate",
                "demand_label": "hot",
                "demand_label_threshold": 0,
                "catch_up_hours": 24,
            }
        }
    ).return_path
    assert config.on_completed is StatusPolicy.NOTE and config.on_duplicate is StatusPolicy.NOTHING
    assert config.on_reopened is StatusPolicy.NOTE_AND_ACTIVATE
    assert (config.demand_label, config.demand_label_threshold, config.catch_up_hours) == ("hot", 0, 24.0)


@pytest.mark.parametrize(
    ("section", "says"),
    [
        (
            {"on_completed": "close"},
            "return_path.on_completed = 'close': use nothing | note | note_and_activate",
        ),
        ({"demand_label_threshold": -1}, "must not be negative"),
        ({"catch_up_hours": "soon"}, "invalid value"),
    ],
)
def test_bad_return_path_values_name_the_key(section: dict[str, object], says: str) -> None:
    with pytest.raises(SettingsError, match="invalid value") as caught:
        config_from_mapping({"return_path": section}, source="bridge.toml")
    assert says in str(caught.value)


def test_each_problem_is_keyed_by_the_variable_to_fix() -> None:
    env = BASE | {"FREESCOUT_BOT_USER_ID": "nine", "GITHUB_REPOSITORY": "", "FREESCOUT_API_KEY": ""}
    with pytest.raises(SettingsError) as caught:
        load_settings(env, config=BridgeConfig())
    assert caught.value.problems == {
        "FREESCOUT_API_KEY": "FREESCOUT_API_KEY",
        "FREESCOUT_BOT_USER_ID": "FREESCOUT_BOT_USER_ID must be a numeric FreeScout user id",
        "GITHUB_REPOSITORY": "GITHUB_REPOSITORY",
    }
    broken = BASE | {"BRIDGE_CONFIG": str(ROOT / "no-such.toml")}
    with pytest.raises(SettingsError) as config:
        load_settings(broken)
    assert list(config.value.problems) == ["BRIDGE_CONFIG"]


@pytest.mark.parametrize(
    ("value", "names", "parsed"),
    [
        (7, False, 7),
        ("7", False, 7),
        (" Ops@Example.com ", False, "ops@example.com"),
        ("ops", True, "ops"),
        ("²", True, "²"),  # digits that are not ASCII are never an id
        ("ops", False, None),
        ("²", False, None),
        ("ops @x.io", False, None),
        ("", True, None),
        (True, True, None),
        (-1, True, None),
        ([1], True, None),
    ],
)
def test_one_mailbox_parser(value: object, names: bool, parsed: int | str | None) -> None:
    if parsed is None:
        with pytest.raises(ValueError, match="mailbox"):
            mailbox_ref(value, names=names)
    else:
        assert mailbox_ref(value, names=names) == parsed
