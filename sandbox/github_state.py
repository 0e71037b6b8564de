"""Configuration and shared context of the local GitHub simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox import github_render as render
from sandbox.asgi import RequestLog
from sandbox.github_auth import Credentials
from sandbox.github_faults import FaultSet
from sandbox.github_limits import RateLimits
from sandbox.github_store import Clock, GitHubStore, utc_now
from sandbox.github_webhooks import HookHub

DEFAULT_LABELS = (
    "bug",
    "enhancement",
    "freescout-linked",
    "customer-reported",
    "regression",
    "needs-customer-confirm",
)


@dataclass(frozen=True)
class GitHubSimConfig:
    """Settings of the local GitHub simulator.

    ``token`` is the accepted PAT (``token X`` or ``Bearer X``); its user is
    ``user_login``. A GitHub App JWT (any well-formed, unexpired one) can mint
    installation tokens for ``installation_id``; those act as ``<app_slug>[bot]``.
    ``html_base_url`` is used for ``html_url`` fields; API URLs use the simulator's own
    base URL. ``content_per_minute``/``content_per_hour`` are the secondary limits on
    issue and comment creation; ``hourly_limit`` is the primary budget per identity.
    """

    token: str = "gh-sim-token"  # noqa: S105 - public test value
    repos: tuple[str, ...] = ("acme/app",)
    content_per_minute: int = 80
    content_per_hour: int = 500
    seed_labels: tuple[str, ...] = DEFAULT_LABELS
    user_login: str = "bridge-bot"
    app_id: int = 4242
    app_slug: str = "freescout-bridge-sim"
    installation_id: int = 777
    installation_token_ttl: int = 3600
    hourly_limit: int = 5000
    html_base_url: str = "https://github.com"
    clock: Clock = field(default=utc_now)


class GitHubSim:
    """Store, limits, faults, credentials and the request log of one simulator."""

    def __init__(self, config: GitHubSimConfig) -> None:
        self.config = config
        self.requests = RequestLog()
        self.faults = FaultSet()
        self.credentials = Credentials(
            config.token,
            config.user_login,
            config.app_slug,
            config.installation_id,
            config.installation_token_ttl,
        )
        self.limits = RateLimits(
            hourly_limit=config.hourly_limit,
            content_per_minute=config.content_per_minute,
            content_per_hour=config.content_per_hour,
        )
        self.hooks = HookHub()
        self.store = self._fresh_store()

    def _fresh_store(self) -> GitHubStore:
        store = GitHubStore(self.config.clock)
        for full_name in self.config.repos:
            store.add_repo(full_name, self.config.seed_labels)
        return store

    def reset(self) -> None:
        self.store = self._fresh_store()
        self.faults.clear()
        self.limits.reset()
        self.credentials.reset()
        self.requests.clear()
        self.hooks.reset()

    def state_dump(self, base: str) -> dict[str, Any]:
        web = self.config.html_base_url
        repos = []
        for repo in self.store.repos.values():
            issues = [
                {
                    **render.issue(repo, i, base, web),
                    "comment_list": [render.comment(repo, c, base, web) for c in i.comments],
                }
                for i in sorted(repo.issues.values(), key=lambda i: i.number)
            ]
            labels = [render.label(repo, lb, base) for lb in repo.labels.values()]
            repos.append({"full_name": repo.full_name, "labels": labels, "issues": issues})
        return {"repos": repos}
