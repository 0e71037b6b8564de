"""Helpers of the real-FreeScout lane: the bridge wired to the real FreeScout, and FreeScout as an agent
or a customer would use it (through its REST API)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from bridge.vocab import conversation_ids_in
from sandbox.real_freescout import Mailbox, RealFreeScout
from tests.harness import EVENTS, REPO, ROOT, Bridge, GitHub, deployment_env, run_sync, workflow_env

ADMIN_USER_ID = 1  # the admin ``RealFreeScout`` creates first: the agent of these tests
ADMIN_TOKEN = "lane-admin-token"


class LaneBridge(Bridge):
    """The real bridge process, configured for the real FreeScout: it handles the support mailbox only."""

    def __init__(
        self, fs: RealFreeScout, gh: GitHub, tmp: Path, secret: str | None = None, **extra: str
    ) -> None:
        config = tmp / "bridge.toml"
        base = (ROOT / "config" / "bridge.toml").read_text()
        config.write_text(base.replace("mailboxes = []", 'mailboxes = ["support@example.com"]', 1))
        env = deployment_env(
            fs.url,
            gh.url,
            FREESCOUT_API_KEY=fs.api_key,
            FREESCOUT_WEBHOOK_SECRET=secret or fs.webhook_secret,
            FREESCOUT_BOT_USER_ID=str(fs.bot_user_id),
            BRIDGE_CONFIG=str(config),
            BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN,
            TMPDIR=str(tmp),  # the sweep lock is per host (in TMPDIR): not shared with other suites here
            **extra,
        )
        super().__init__(env, tmp / f"bridge-{uuid.uuid4().hex[:6]}.log")
        self.env = env

    def reuse_port_of(self, other: Bridge) -> None:
        """Listen where ``other`` listened, so FreeScout's stored webhook URL reaches this process."""
        self.port, self.url = other.port, other.url

    def deliveries_for(self, conversation_id: int) -> list[dict[str, Any]]:
        return [d for d in self.deliveries_logged() if d.get("conversation_id") == conversation_id]


class Lane:
    """One bridge registered (all conversation events) as a webhook of the shared real FreeScout."""

    def __init__(
        self, fs: RealFreeScout, gh: GitHub, tmp: Path, secret: str | None = None, **extra: str
    ) -> None:
        self.fs = fs
        self.gh = gh
        self.bridge = LaneBridge(fs, gh, tmp, secret, **extra)
        self.webhook_id = 0
        self.api = fs.api()

    def __enter__(self) -> Lane:
        self.bridge.start()
        self.webhook_id = self.fs.register_webhook(self.bridge.webhook_url("support"), EVENTS)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.fs.drain()  # nothing of this module's is left for the next one's bridge
        self.fs.delete_webhook(self.webhook_id)
        self.bridge.stop()
        self.api.close()

    # -- FreeScout as people use it ------------------------------------------------------------------

    def mailbox(self, name: str) -> Mailbox:
        return self.fs.mailboxes[name]

    def customer_writes_in(
        self, mailbox: str = "support", subject: str | None = None, tags: list[str] | None = None
    ) -> int:
        """A customer's new conversation (``POST /api/conversations``), then its tags: the create
        ignores a ``tags`` key, so they go through ``PUT …/tags`` as a separate step (as the real product
        requires). Returns the conversation id."""
        answer = self.api.post(
            "/api/conversations",
            json={
                "type": "email",
                "mailboxId": self.mailbox(mailbox).id,
                "subject": subject or f"CSV export fails {uuid.uuid4().hex[:8]}",
                "customer": {"email": "dana@example.com", "firstName": "Dana"},
                "threads": [{"type": "customer", "text": "<p>Every CSV export ends with an error 500.</p>"}],
                "imported": True,
            },
        )
        assert answer.status_code == 201, answer.text
        conversation_id = int(answer.headers["Resource-ID"])
        if tags is not None:
            self.set_tags(conversation_id, tags)
        return conversation_id

    def set_tags(self, conversation_id: int, tags: list[str]) -> None:
        answer = self.api.put(f"/api/conversations/{conversation_id}/tags", json={"tags": tags})
        assert answer.status_code == 204, answer.text

    def agent_note(self, conversation_id: int, text: str = "<p>Looking into it.</p>") -> None:
        answer = self.api.post(
            f"/api/conversations/{conversation_id}/threads",
            json={"type": "note", "user": ADMIN_USER_ID, "text": text},
        )
        assert answer.status_code == 201, answer.text

    def agent_sets_status(self, conversation_id: int, status: str) -> None:
        answer = self.api.put(
            f"/api/conversations/{conversation_id}", json={"status": status, "byUser": ADMIN_USER_ID}
        )
        assert answer.status_code == 204, answer.text

    def set_field(self, conversation_id: int, value: str, mailbox: str = "support") -> None:
        """Write ``github_issue_url`` as an agent would (``PUT …/custom_fields``; it fires no webhook)."""
        field = {"id": self.mailbox(mailbox).field_id, "value": value}
        answer = self.api.put(
            f"/api/conversations/{conversation_id}/custom_fields", json={"customFields": [field]}
        )
        assert answer.status_code == 204, answer.text

    def conversation(self, conversation_id: int) -> dict[str, Any]:
        answer = self.api.get(f"/api/conversations/{conversation_id}", params={"embed": "threads,tags"})
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def field_value(self, conversation_id: int) -> str:
        fields = self.conversation(conversation_id).get("customFields") or []
        return next((str(f["value"]) for f in fields if f["name"] == "github_issue_url"), "")

    def bot_notes(self, conversation_id: int) -> list[dict[str, Any]]:
        threads = self.conversation(conversation_id)["_embedded"]["threads"]
        bot = self.fs.bot_user_id
        return [t for t in threads if t["type"] == "note" and (t.get("createdBy") or {}).get("id") == bot]

    def sweep(self) -> subprocess.CompletedProcess[str]:
        """``freescout-bridge sweep``, handed to the running web process (the single writer)."""
        env = {**self.bridge.env, "BRIDGE_URL": self.bridge.url}
        return subprocess.run(
            [sys.executable, "-m", "bridge", "sweep"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    # -- GitHub Actions ------------------------------------------------------------------------------

    def freescout_sync(
        self, event_name: str, payload: Mapping[str, Any], workdir: Path, repository: str = REPO
    ) -> subprocess.CompletedProcess[str]:
        """``freescout-sync`` as a workflow step runs it on ``payload``: the GitHub simulator as the API,
        the real FreeScout as the help desk."""
        workdir.mkdir(parents=True, exist_ok=True)
        env = workflow_env(
            self.fs.url,
            self.gh.url,
            GITHUB_EVENT_NAME=event_name,
            GITHUB_REPOSITORY=repository,
            GITHUB_TOKEN=self.bridge.env["GITHUB_ISSUE_BOT_TOKEN"],
            FREESCOUT_API_KEY=self.fs.api_key,
            FREESCOUT_BOT_USER_ID=str(self.fs.bot_user_id),
            FREESCOUT_OPS_MAILBOX=self.mailbox("ops").email,
        )
        done, _summary = run_sync(env, payload, workdir, name=f"event-{len(list(workdir.glob('*.json')))}")
        return done

    # -- GitHub (simulator) --------------------------------------------------------------------------

    def issues_for(self, conversation_id: int) -> list[dict[str, Any]]:
        return [i for i in self.gh.issues() if conversation_id in conversation_ids_in(i.get("body"))]

    def github(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """A call to the GitHub simulator's REST API as the token's user (an engineer closing an issue)."""
        token = self.bridge.env["GITHUB_ISSUE_BOT_TOKEN"]
        answer = httpx.request(
            method,
            self.gh.url + path,
            json=None if body is None else dict(body),
            headers={"Authorization": f"token {token}"},
            timeout=10,
        )
        no_http_error(answer)
        return answer.json()

    def gh_writes(self) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.gh.writes()]


def compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def no_http_error(answer: httpx.Response) -> None:
    assert answer.status_code < 400, f"{answer.request.method} {answer.request.url}: {answer.text}"
