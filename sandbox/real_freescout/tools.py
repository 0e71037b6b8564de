"""What the real-FreeScout lane needs from the machine, found once, with a plain message when missing.

The lane skips locally when a part is missing, and fails in CI (``CI=true``): see ``require``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARBALL_NAME = "freescout-1.8.159-modules.tar.gz"
PHP_EXTENSIONS = ("pdo_mysql", "mbstring", "dom", "imap", "gd", "curl", "zip", "intl", "bcmath")
INSTALL_HINT = (
    "install them with `make install-system` (Debian: php8.2-cli php8.2-mysql php8.2-mbstring php8.2-xml "
    "php8.2-imap php8.2-gd php8.2-curl php8.2-zip php8.2-intl php8.2-bcmath mariadb-server)"
)


class Unavailable(RuntimeError):
    """The real FreeScout cannot run here; the message says what is missing and how to fix it."""


@dataclass(frozen=True)
class Tools:
    php: str
    mariadbd: str
    mysql_install_db: str
    mariadb: str


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")


def find_tools() -> Tools:
    found = {name: _which(name) for name in ("php", "mariadbd", "mysql_install_db", "mariadb")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise Unavailable(f"the real FreeScout needs {', '.join(missing)} on this machine: {INSTALL_HINT}")
    tools = Tools(**{name: str(path) for name, path in found.items()})
    modules = subprocess.run([tools.php, "-m"], capture_output=True, text=True, check=True).stdout.lower()
    lacking = [ext for ext in PHP_EXTENSIONS if ext not in modules.split()]
    if lacking:
        raise Unavailable(f"PHP lacks the extensions {', '.join(lacking)}: {INSTALL_HINT}")
    return tools


def tarball_candidates() -> list[Path]:
    """``$FREESCOUT_TARBALL``, else ``../shared/freescout/`` beside the checkout (or beside ``wt/`` for a
    git worktree one level deeper)."""
    if env := os.environ.get("FREESCOUT_TARBALL"):
        return [Path(env)]
    return [base / "shared" / "freescout" / TARBALL_NAME for base in (REPO.parent, REPO.parent.parent)]


def find_source() -> tuple[str, Path]:
    """``("tree", dir)`` from ``$FREESCOUT_SRC`` or ``("tarball", file)``; ``Unavailable`` if neither."""
    if src := os.environ.get("FREESCOUT_SRC"):
        tree = Path(src)
        if not (tree / "artisan").is_file() or not (tree / "Modules" / "ApiWebhooks").is_dir():
            raise Unavailable(
                f"FREESCOUT_SRC={tree} is not a FreeScout tree with Modules/ApiWebhooks (no artisan there)"
            )
        return "tree", tree
    for tarball in tarball_candidates():
        if tarball.is_file():
            return "tarball", tarball
    tried = ", ".join(str(p) for p in tarball_candidates())
    raise Unavailable(
        f"no FreeScout to run: set FREESCOUT_SRC to an unpacked FreeScout tree (core 1.8.x with the "
        f"ApiWebhooks, CustomFields and Tags modules) or FREESCOUT_TARBALL to its tarball (tried {tried})"
    )
