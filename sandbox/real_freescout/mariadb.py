"""A private MariaDB for one FreeScout: its own data dir, socket and port on 127.0.0.1.

No system service is touched. ``mysql_install_db`` fills an empty data dir, ``mariadbd --no-defaults``
serves it, and the ``mariadb`` client talks to it over its own socket as root.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from pathlib import Path

from sandbox.real_freescout.processes import Started, free_port, spawn, wait_for_port
from sandbox.real_freescout.tools import Tools

DATABASE = "freescout"
USER = "freescout"


class MariaDB:
    def __init__(self, tools: Tools, root: Path) -> None:
        self.tools = tools
        self.datadir = root / "mysql-data"
        self.socket = root / "mysql.sock"
        self.log = root / "mariadbd.log"
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self.process: Started | None = None

    def start(self) -> None:
        self.datadir.mkdir(parents=True)
        subprocess.run(
            [
                self.tools.mysql_install_db,
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--user=root",
            ],
            check=True,
            capture_output=True,
        )
        self.process = spawn(
            "mariadbd",
            [
                self.tools.mariadbd,
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--socket={self.socket}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--user=root",
                "--skip-log-bin",
                "--skip-name-resolve",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--innodb-fast-shutdown=2",  # a throwaway data dir: stop without flushing
                "--innodb-buffer-pool-size=64M",
                f"--pid-file={self.datadir / 'mariadbd.pid'}",
                f"--log-error={self.log}",
            ],
            marker=str(self.datadir),
            log=self.log,
        )
        wait_for_port(self.port, self.process, self.log)
        self._wait_for_socket()
        self.sql(
            f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
            f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{self.password}';"
            f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'127.0.0.1';",
            database="",
        )

    def _wait_for_socket(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd made no socket at {self.socket}")
            time.sleep(0.05)

    def sql(self, statements: str, database: str = DATABASE) -> list[list[str]]:
        """Run SQL as root over the private socket; return the rows (tab-separated columns)."""
        argv = [self.tools.mariadb, "--no-defaults", f"--socket={self.socket}", "-uroot", "-N", "-B"]
        if database:
            argv.append(database)
        done = subprocess.run(argv, input=statements, text=True, capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"SQL failed ({done.returncode}): {done.stderr.strip()}\n{statements}")
        return [line.split("\t") for line in done.stdout.splitlines()]

    def scalar(self, query: str) -> int:
        rows = self.sql(query)
        return int(rows[0][0]) if rows else 0
