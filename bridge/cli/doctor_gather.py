"""The doctor's I/O: ask FreeScout and GitHub the questions, and (only with ``--fix``) create labels.

Every answer is recorded in a ``Facts`` value; the verdicts live in ``bridge.cli.doctor`` and do no I/O.
Reads only, except ``POST /repos/{o}/{r}/labels`` for missing labels when ``fix`` is true.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import jwt

from bridge import cutoff, retry
from bridge.cli.doctor import Answer, Facts, MailboxFacts, label_style, wanted_labels
from bridge.errors import UpstreamError
from bridge.freescout_api import FreeScoutAPI
from bridge.github_api import GitHubIssues
from bridge.mailboxes import MailboxDirectory
from bridge.settings import (
    DEFAULT_CONFIG_PATH,
    AppAuth,
    BridgeConfig,
    Settings,
    SettingsError,
    load_config,
    load_settings,
)
from bridge.sweep import candidates
from bridge.vocab import FIELD_GITHUB_ISSUE_URL

T = TypeVar("T")
STEP_SECONDS = 20.0  # each question gets its own budget, so one slow upstream cannot starve the rest


def answer_of(exc: UpstreamError) -> Answer:
    return Answer(False, exc.reason, exc.status, exc.hint, unreachable=exc.transient)


async def ask(question: Callable[[], Awaitable[T]]) -> tuple[T | None, Answer]:
    """Run one upstream question under its own deadline; never raise an upstream failure."""
    try:
        with retry.deadline_in(STEP_SECONDS):
            return await question(), Answer(True)
    except UpstreamError as exc:
        return None, answer_of(exc)
    except jwt.PyJWTError:
        hint = "GITHUB_APP_PRIVATE_KEY is not a valid PEM private key (paste the whole .pem file)"
        return None, Answer(False, "invalid_app_key", hint=hint)


def read_settings(env: Mapping[str, str]) -> tuple[Facts, Settings | None]:
    """The config file and the environment, each problem listed on its own."""
    path = (env.get("BRIDGE_CONFIG") or "").strip() or DEFAULT_CONFIG_PATH
    facts = Facts(config_path=path)
    config = BridgeConfig()
    try:
        config = load_config(Path(path))
        if not Path(path).exists():
            facts = replace(facts, config_absent=True)
    except SettingsError as exc:
        facts = replace(facts, config_error="; ".join(exc.problems.values()))
    try:
        settings = load_settings(env, config=config)
    except SettingsError as exc:
        return replace(facts, settings_problems=exc.problems), None
    return facts, settings


def _field_id(fields: list[dict[str, Any]]) -> int | None:
    for item in fields:
        if str(item.get("name", "")).strip().lower() == FIELD_GITHUB_ISSUE_URL and isinstance(
            item.get("id"), int
        ):
            return int(item["id"])
    return None


async def _mailbox(api: FreeScoutAPI, ref: str, box: Mapping[str, Any] | None) -> MailboxFacts:
    if box is None:
        return MailboxFacts(ref, None)
    mailbox_id = int(box["id"])
    fields, answer = await ask(lambda: api.mailbox_custom_fields(mailbox_id))
    return MailboxFacts(ref, mailbox_id, str(box.get("name") or ""), _field_id(fields or []), answer)


async def gather_freescout(facts: Facts, settings: Settings, api: FreeScoutAPI) -> Facts:
    _, probe = await ask(api.probe)
    facts = replace(facts, freescout=probe, bot_user_id=settings.bot_user_id)
    if not probe.ok:
        return facts
    listed, answer = await ask(api.list_mailboxes)
    if listed is None:
        return replace(facts, freescout=answer)
    by_id = {int(m["id"]): m for m in listed if isinstance(m.get("id"), int)}
    by_email = {str(m.get("email") or "").lower(): m for m in by_id.values()}
    configured = settings.config.mailboxes
    if configured:
        refs = [
            (str(ref), by_id.get(ref) if isinstance(ref, int) else by_email.get(ref)) for ref in configured
        ]
    else:
        refs = [(str(mid), box) for mid, box in sorted(by_id.items())]
    boxes = tuple([await _mailbox(api, ref, box) for ref, box in refs])
    user, bot = await ask(lambda: api.get_user(settings.bot_user_id))
    name = " ".join(str((user or {}).get(k) or "") for k in ("firstName", "lastName")).strip()
    facts = replace(facts, mailboxes=boxes, bot_user=bot, bot_user_name=name)
    return await gather_cutoff(facts, settings, api)


async def gather_cutoff(facts: Facts, settings: Settings, api: FreeScoutAPI) -> Facts:
    """The cut-off and how many of today's sweep candidates it holds back (what switching on would link)."""
    config, now = settings.config, datetime.now(UTC)
    facts = replace(
        facts,
        cutoff=cutoff.describe(config.link_since, config.max_age_days, now),
        cutoff_set=config.cutoff(now) is not None,
    )
    directory = MailboxDirectory(api, config.mailboxes)
    found, answer = await ask(lambda: candidates(api, directory, config.tags))
    if found is None:
        return replace(facts, candidates_answer=answer)
    limit = config.cutoff(now)
    held = sum(cutoff.held_back(c.created_at, limit) for c in found)
    oldest = cutoff.age(found[0].created_at, now) if found else ""
    return replace(facts, candidates=len(found), held_back=held, oldest_age=oldest, candidates_answer=answer)


async def _run_sync(call: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(call)


async def gather_github(facts: Facts, github: GitHubIssues, *, fix: bool) -> Facts:
    repo, probe = await ask(lambda: _run_sync(github.probe))
    facts = replace(facts, github=probe, repo=repo, oauth_scopes=github.oauth_scopes() if probe.ok else None)
    if not probe.ok:
        return facts
    names, listed = await ask(lambda: _run_sync(github.list_labels))
    if names is None:
        return replace(facts, labels_answer=listed)
    present = {n.lower() for n in names}
    facts = replace(facts, labels_answer=listed, labels_present=frozenset(present))
    missing = [n for n in facts.labels_wanted if n.lower() not in present]
    if not fix or not missing:
        return facts
    created: list[str] = []
    failures: dict[str, str] = {}
    for name in missing:
        color, description = label_style(name)
        create = partial(github.create_label, name, color, description)
        _, made = await ask(partial(_run_sync, create))
        if made.ok:
            created.append(name)
        else:
            failures[name] = made.why
    present |= {n.lower() for n in created}
    return replace(
        facts, labels_present=frozenset(present), labels_created=tuple(created), label_failures=failures
    )


def base_facts(facts: Facts, settings: Settings, public_url: str) -> Facts:
    """What the settings alone tell: flag, routes, repository, auth kind, the labels to look for."""
    return replace(
        facts,
        autolink_enabled=settings.autolink_enabled,
        routes=settings.config.routes,
        public_url=public_url.strip(),
        github_repository=settings.github_repository,
        github_auth_kind="app" if isinstance(settings.github_auth, AppAuth) else "token",
        labels_wanted=wanted_labels(settings.config.tag_labels),
        bot_user_id=settings.bot_user_id,
        github_webhook_secrets=tuple(len(s.reveal()) for s in settings.github_webhook_secrets),
    )
