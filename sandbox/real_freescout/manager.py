"""``RealFreeScout``: a real FreeScout (core, API & Webhooks, Custom Fields, Tags) on loopback for tests.

Everything lives under one temporary root and is started by this class: a private MariaDB, the
FreeScout tree (unpacked from the tarball or copied from ``$FREESCOUT_SRC``, never written in place),
and ``php -S`` serving it. Seeding follows what an operator does: ``.env``, ``key:generate``,
``migrate``, the three modules activated (their rows plus ``freescout:module-install``, which is what the
Activate button runs), an admin, a bot user created through ``POST /api/users``, and two mailboxes with a
``github_issue_url`` field each (no API exists for these, so ``seed.php`` uses FreeScout's own models).

FreeScout sends webhooks from queued jobs. Instead of the per-minute cron, ``drain()`` runs the queue
worker once per ready job until none is left, and ``retry_failed()`` runs the command the cron uses for
retries. ``stop()`` stops exactly the processes this instance started and removes its root.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from sandbox.real_freescout.mariadb import DATABASE, USER, MariaDB
from sandbox.real_freescout.processes import Started, free_port, spawn, wait_for_port
from sandbox.real_freescout.tools import Tools, find_source, find_tools

SEED_PHP = Path(__file__).with_name("seed.php")
MODULES = ("apiwebhooks", "customfields", "tags")
# What activating a module writes; the licence check with freescout.net (unreachable here) is skipped.
ACTIVATE_MODULES = (
    "INSERT INTO modules (alias, active, activated, license) VALUES "
    "('apiwebhooks', 1, 1, 'x'), ('customfields', 1, 1, 'x'), ('tags', 1, 1, 'x');"
)
ADMIN_EMAIL = "admin@example.com"
BOT = {"firstName": "Issue", "lastName": "Bot", "email": "issue-bot@example.com"}
MAILBOXES = (("Support", "support@example.com"), ("Ops", "ops@example.com"))
UNDO_WINDOW_SECONDS = 15  # Conversation::UNDO_TIMOUT: events of agent-created threads wait this long


@dataclass(frozen=True)
class Mailbox:
    id: int
    name: str
    email: str
    field_id: int


class RealFreeScout:
    def __init__(self, root: Path | None = None, mailboxes: Sequence[tuple[str, str]] = MAILBOXES) -> None:
        self.tools: Tools = find_tools()
        self.source = find_source()
        self.root = root or Path(tempfile.mkdtemp(prefix="real-freescout-"))
        self.tree = self.root / "freescout"
        self.db = MariaDB(self.tools, self.root)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._mailbox_specs = tuple(mailboxes)
        self.web: Started | None = None
        self.api_key = ""
        self.webhook_secret = ""
        self.app_key = ""
        self.bot_user_id = 0
        self.mailboxes: dict[str, Mailbox] = {}
        self.timings: dict[str, float] = {}

    # -- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> RealFreeScout:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._step("tree", self._lay_out_tree)
        self._step("mariadb", self.db.start)
        self._step("env", self._configure)
        self._step("schema", self._migrate_and_activate)
        self._step("web", self._serve)
        self._step("seed", self._seed)

    def stop(self) -> None:
        """Stop what this instance started (newest first) and remove its root."""
        for started in reversed(self.processes):
            started.stop()
        self.web = self.db.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def processes(self) -> list[Started]:
        """What this instance started, oldest first."""
        return [p for p in (self.db.process, self.web) if p is not None]

    def _step(self, name: str, action: Any) -> None:
        began = time.monotonic()
        action()
        self.timings[name] = round(time.monotonic() - began, 2)

    # -- set-up steps ------------------------------------------------------------------------------

    def _lay_out_tree(self) -> None:
        kind, path = self.source
        if kind == "tree":
            shutil.copytree(path, self.tree, symlinks=True, ignore=shutil.ignore_patterns(".env", ".git"))
        else:
            unpacked = self.root / "unpack"
            unpacked.mkdir()
            subprocess.run(["tar", "-xzf", str(path), "-C", str(unpacked)], check=True)
            (top,) = list(unpacked.iterdir())
            top.rename(self.tree)
            unpacked.rmdir()
        for sub in ("framework/sessions", "framework/views", "framework/cache/data", "logs", "app/public"):
            (self.tree / "storage" / sub).mkdir(parents=True, exist_ok=True)

    def _configure(self) -> None:
        salt = secrets.token_hex(16)
        env = {
            "APP_URL": self.url,
            "APP_ENV": "production",
            "APP_DEBUG": "false",
            "APP_TIMEZONE": "UTC",
            "APP_KEY": "",
            "DB_CONNECTION": "mysql",
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.db.port),
            "DB_DATABASE": DATABASE,
            "DB_USERNAME": USER,
            "DB_PASSWORD": self.db.password,
            "APIWEBHOOKS_API_KEY_SALT": salt,
        }
        (self.tree / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        self.artisan("key:generate", "--force")
        self.artisan("freescout:clear-cache")
        self.app_key = self._env_value("APP_KEY")

    def _env_value(self, key: str) -> str:
        for line in (self.tree / ".env").read_text().splitlines():
            if line.startswith(f"{key}="):
                return line.split("=", 1)[1].strip()
        raise RuntimeError(f"{key} missing from {self.tree / '.env'}")

    def _migrate_and_activate(self) -> None:
        self.artisan("migrate", "--force")
        self.db.sql(ACTIVATE_MODULES)
        for alias in MODULES:
            self.artisan("freescout:module-install", alias)
        self.artisan("migrate", "--force")
        self.artisan(
            "freescout:create-user",
            "--role=admin",
            "--firstName=Ada",
            "--lastName=Admin",
            f"--email={ADMIN_EMAIL}",
            f"--password={secrets.token_hex(8)}",
            "-n",
        )

    def _serve(self) -> None:
        log = self.root / "php-server.log"
        router = self.tree / "server.php"
        self.web = spawn(
            "php -S",
            [self.tools.php, "-S", f"127.0.0.1:{self.port}", "-t", str(self.tree / "public"), str(router)],
            marker=str(router),
            log=log,
            cwd=self.tree,
            env={"PHP_CLI_SERVER_WORKERS": "4", "PATH": "/usr/bin:/bin"},
        )
        wait_for_port(self.port, self.web, log)

    def _seed(self) -> None:
        specs = [f"{name}:{email}" for name, email in self._mailbox_specs]
        seeded = self._seed_php("mailboxes", ADMIN_EMAIL, *specs)
        self.api_key = str(seeded["api_key"])
        self.webhook_secret = str(seeded["webhook_secret"])
        for box in seeded["mailboxes"]:
            mailbox = Mailbox(int(box["id"]), str(box["name"]), str(box["email"]), int(box["field_id"]))
            self.mailboxes[mailbox.name.lower()] = mailbox
        with self.api() as api:
            created = api.post("/api/users", json=BOT)
            created.raise_for_status()
            self.bot_user_id = int(created.json()["id"])
        self._seed_php("attach", str(self.bot_user_id))

    def _seed_php(self, *args: str) -> dict[str, Any]:
        done = self._run([self.tools.php, str(SEED_PHP), *args])
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    # -- driving it --------------------------------------------------------------------------------

    def artisan(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([self.tools.php, "artisan", *args])

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(argv, cwd=self.tree, capture_output=True, text=True, check=False, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv[1:3])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done

    def api(self, api_key: str | None = None) -> httpx.Client:
        """A client for FreeScout's REST API with the headers it needs (docs/upstream/freescout.md §4)."""
        return httpx.Client(
            base_url=self.url,
            headers={
                "X-FreeScout-API-Key": self.api_key if api_key is None else api_key,
                "Accept": "application/json",
            },
            timeout=30,
        )

    def register_webhook(self, url: str, events: Sequence[str]) -> int:
        """``POST /api/webhooks``, then ``queue:restart``: a running worker caches the webhook list."""
        with self.api() as api:
            answer = api.post("/api/webhooks", json={"url": url, "events": list(events)})
        answer.raise_for_status()
        self.artisan("queue:restart")
        return int(answer.json()["id"])

    def delete_webhook(self, webhook_id: int) -> None:
        with self.api() as api:
            api.delete(f"/api/webhooks/{webhook_id}").raise_for_status()
        self.artisan("queue:restart")

    def pending_jobs(self, ready_only: bool = False) -> int:
        if ready_only:
            return self.db.scalar("SELECT COUNT(*) FROM jobs WHERE available_at <= UNIX_TIMESTAMP();")
        return self.db.scalar("SELECT COUNT(*) FROM jobs;")

    def drain(self, skip_undo_window: bool = True, max_jobs: int = 200) -> int:
        """Run queued jobs (each webhook is one) until the queue is empty; return how many ran.

        Jobs held back by the 15 s undo window (events of conversations and replies an agent or the API
        created) are made due now when ``skip_undo_window``: the same job with the same body-building
        code, sent earlier. Without it, ``drain`` waits for them like the cron would.
        """
        ran = 0
        while ran < max_jobs:
            if skip_undo_window:
                self.db.sql("UPDATE jobs SET available_at = UNIX_TIMESTAMP() WHERE reserved_at IS NULL;")
            if self.pending_jobs(ready_only=True):
                self.artisan("queue:work", "--once", "--queue=emails,default", "--sleep=0", "--tries=1")
                ran += 1
            elif self.pending_jobs():
                time.sleep(0.2)
            else:
                return ran
        raise RuntimeError(f"the queue did not empty after {max_jobs} jobs")

    def retry_failed(self) -> int:
        """Run ``freescout:webhooks-process`` (what the cron runs each minute) and return how many failed
        deliveries remain. A first retry is due once a second has passed since the failure."""
        due = self.db.scalar("SELECT COUNT(*) FROM webhook_logs WHERE finished = 0 AND updated_at < NOW();")
        while not due and self.failed_deliveries():
            time.sleep(0.2)
            due = self.db.scalar(
                "SELECT COUNT(*) FROM webhook_logs WHERE finished = 0 AND updated_at < NOW();"
            )
        self.artisan("freescout:webhooks-process")
        return len(self.failed_deliveries())

    def failed_deliveries(self) -> list[dict[str, str]]:
        rows = self.db.sql("SELECT id, event, status_code, attempts FROM webhook_logs WHERE finished = 0;")
        return [dict(zip(("id", "event", "status_code", "attempts"), row, strict=True)) for row in rows]

    def describe(self) -> dict[str, Any]:
        """What a human or another process needs to use (and later stop) this instance."""
        return {
            "url": self.url,
            "api_key": self.api_key,
            "webhook_secret": self.webhook_secret,
            "bot_user_id": self.bot_user_id,
            "mailboxes": {k: vars(v) for k, v in self.mailboxes.items()},
            "root": str(self.root),
            "db_socket": str(self.db.socket),
            "processes": [p.record() for p in self.processes],
            "timings": self.timings,
        }
