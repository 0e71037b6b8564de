"""``freescout-bridge check`` against the local simulators, through the real command line."""

from __future__ import annotations

from tests.cli.conftest import mailbox_config
from tests.harness import FS_KEY, GH_TOKEN, Deployment


def fail_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("[FAIL]")]


def test_a_misconfigured_deployment_names_each_problem_and_its_fix(deployment: Deployment) -> None:
    """Mailbox 3 has no github_issue_url field and the bridge's labels are missing."""
    deployment.configure(mailbox_config(("ops@example.com", "support@example.com", 3)))
    result = deployment.cli("check")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert fail_lines(out) == [
        "[FAIL] mailbox 3: Sales (id 3) has no github_issue_url custom field",
        "[FAIL] github labels: missing: freescout-linked, customer-reported, regression, needs-customer-confirm",
    ]
    assert "fix: in FreeScout → Manage → Mailboxes → Sales → Custom Fields, add a Single Line field" in out
    assert "fix: run `freescout-bridge check --fix` to create them" in out
    assert "[ok]   mailbox ops@example.com: Ops (id 1): github_issue_url is custom field id 12" in out
    assert "[ok]   mailbox support@example.com: Support (id 2): github_issue_url is custom field id 7" in out
    assert "[ok]   bot user 9: FreeScout user 9 (Issue Bot) exists" in out
    assert "2 of 14 checks failed (exit 1)." in out
    assert deployment.gh.writes() == [], "check without --fix writes nothing"
    fs_log = deployment.fs.requests()
    assert fs_log and {r["method"] for r in fs_log} == {"GET"}, "check only reads FreeScout"


def test_a_wrong_api_key_is_named_with_where_to_find_the_right_one(deployment: Deployment) -> None:
    result = deployment.cli("check", FREESCOUT_API_KEY="0" * 32)
    assert result.returncode == 1
    assert "[FAIL] freescout api: FreeScout refused the API key (HTTP 401 Not Authorized)" in result.stdout
    assert (
        "fix: set FREESCOUT_API_KEY to the API Key in FreeScout → Manage → Settings → API & Webhooks"
        in result.stdout
    )
    assert "[FAIL] mailboxes: not checked: FreeScout did not answer" in result.stdout
    assert "0" * 32 not in result.stdout + result.stderr


def test_a_wrong_github_token_is_named(deployment: Deployment) -> None:
    result = deployment.cli("check", GITHUB_ISSUE_BOT_TOKEN="not-the-token")
    assert result.returncode == 1
    assert "[FAIL] github repository acme/app: GitHub refused: http_401" in result.stdout
    assert "runbooks/github-auth.md" in result.stdout


def test_check_fix_creates_the_missing_labels_and_then_check_passes(deployment: Deployment) -> None:
    fixed = deployment.cli("check", "--fix")
    assert fixed.returncode == 0, fixed.stdout
    assert (
        "--fix created: freescout-linked, customer-reported, regression, needs-customer-confirm"
        in fixed.stdout
    )
    writes = deployment.gh.writes()
    assert [(w["method"], w["path"]) for w in writes] == [("POST", "/repos/acme/app/labels")] * 4
    labels = {label["name"] for label in deployment.gh.state()["repos"][0]["labels"]}
    assert {"freescout-linked", "customer-reported", "regression", "needs-customer-confirm"} <= labels

    again = deployment.cli("check")
    assert again.returncode == 0, again.stdout
    assert fail_lines(again.stdout) == []
    assert "All 13 checks passed." in again.stdout
    assert len(deployment.gh.writes()) == 4, "the second check wrote nothing"


def test_check_json_is_one_object_with_the_webhook_urls_and_events(deployment: Deployment) -> None:
    code, data = deployment.cli_json("check", "--public-url", "https://bridge.example.com/")
    assert code == 1 and data["ok"] is False and data["exit_code"] == 1
    assert data["webhook"]["urls"] == [
        "https://bridge.example.com/api/webhooks/freescout/ops",
        "https://bridge.example.com/api/webhooks/freescout/support",
    ]
    assert data["webhook"]["events"] == [
        "convo.created",
        "convo.assigned",
        "convo.status",
        "convo.moved",
        "convo.customer.reply.created",
        "convo.agent.reply.created",
        "convo.note.created",
        "convo.restored",
    ]
    failed = [c["name"] for c in data["checks"] if not c["ok"]]
    assert failed == ["github labels"]
    assert all(set(c) == {"name", "ok", "detail", "fix"} for c in data["checks"])


def test_the_public_url_can_come_from_the_environment(deployment: Deployment) -> None:
    result = deployment.cli("check", BRIDGE_PUBLIC_URL="https://hooks.example.org")
    assert "  url:    https://hooks.example.org/api/webhooks/freescout/support" in result.stdout
    assert "  events: convo.created, convo.assigned, convo.status" in result.stdout


def test_with_no_mailboxes_configured_every_mailbox_is_checked(deployment: Deployment) -> None:
    deployment.configure(mailbox_config(()))
    result = deployment.cli("check")
    assert "[ok]   mailbox 1: Ops (id 1): github_issue_url is custom field id 12" in result.stdout
    assert "[ok]   mailbox 2: Support (id 2): github_issue_url is custom field id 7" in result.stdout
    assert "[FAIL] mailbox 3: Sales (id 3) has no github_issue_url custom field" in result.stdout


def test_missing_settings_are_each_named_and_exit_2(deployment: Deployment) -> None:
    result = deployment.cli(
        "check", FREESCOUT_API_KEY="", GITHUB_ISSUE_BOT_TOKEN="", FREESCOUT_BOT_USER_ID="nine"
    )
    assert result.returncode == 2
    assert fail_lines(result.stdout) == [
        "[FAIL] environment: missing or invalid: FREESCOUT_API_KEY",
        "[FAIL] environment: missing or invalid: FREESCOUT_BOT_USER_ID must be a numeric FreeScout user id",
        "[FAIL] environment: missing or invalid: GITHUB_ISSUE_BOT_TOKEN (or GITHUB_APP_ID, "
        "GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID)",
    ]


def test_an_unreachable_freescout_exits_3_and_still_checks_github(deployment: Deployment) -> None:
    result = deployment.cli("check", FREESCOUT_URL="http://127.0.0.1:9")
    assert result.returncode == 3
    assert "[FAIL] freescout api: FreeScout did not answer: connection_error" in result.stdout
    assert (
        "[ok]   github repository acme/app: the credentials work and the repository exists" in result.stdout
    )


def test_logs_and_secrets_stay_off_stdout(deployment: Deployment) -> None:
    result = deployment.cli("check", "--fix", LOG_LEVEL="DEBUG")
    for secret in (FS_KEY, GH_TOKEN):
        assert secret not in result.stdout and secret not in result.stderr
    assert result.stdout.startswith("freescout-bridge check\n")


def app_private_key() -> str:
    """A throwaway RSA key in PEM, on one line with ``\\n`` as an environment file would hold it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode("ascii").replace("\n", "\\n")


def test_github_app_credentials_are_checked_through_an_installation_token(deployment: Deployment) -> None:
    app = {"GITHUB_ISSUE_BOT_TOKEN": "", "GITHUB_APP_ID": "4242", "GITHUB_APP_INSTALLATION_ID": "777"}
    good = deployment.cli("check", "--fix", GITHUB_APP_PRIVATE_KEY=app_private_key(), **app)
    assert good.returncode == 0, good.stdout
    assert (
        "[ok]   github issues permission: the App installation granted the Issues: write token" in good.stdout
    )
    tokens = [r for r in deployment.gh.requests() if r["path"].endswith("/access_tokens")]
    assert tokens and tokens[0]["json"]["permissions"] == {"issues": "write", "metadata": "read"}

    broken = deployment.cli("check", GITHUB_APP_PRIVATE_KEY="not a pem key", **app)
    assert broken.returncode == 2  # a settings error now: the key is parsed when settings load
    assert "GITHUB_APP_PRIVATE_KEY is not a PEM RSA private key" in broken.stdout


def test_check_names_the_github_webhook_url_and_events_once_the_secret_is_set(deployment: Deployment) -> None:
    off = deployment.cli("check")
    assert "[ok]   github webhook: off: GITHUB_WEBHOOK_SECRET is unset" in off.stdout
    weak = deployment.cli("check", GITHUB_WEBHOOK_SECRET="short")
    assert "[FAIL] github webhook: a GITHUB_WEBHOOK_SECRET value is shorter than 16 characters" in weak.stdout
    on = deployment.cli(
        "check",
        "--public-url",
        "https://bridge.example.com",
        GITHUB_WEBHOOK_SECRET="a" * 32 + ",b" + "c" * 31,
    )
    assert "[ok]   github webhook: on (2 secrets: rotation in progress)" in on.stdout
    assert "  Payload URL:  https://bridge.example.com/api/webhooks/github" in on.stdout
    assert "  events:       Issues, Issue comments (Let me select individual events)" in on.stdout
    assert "a" * 32 not in on.stdout + on.stderr
