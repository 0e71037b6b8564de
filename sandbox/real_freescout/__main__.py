"""``python -m sandbox.real_freescout up|down``: a real FreeScout on loopback for a human.

``up`` starts one, prints how to reach it (URL, API key, webhook secret, bot user, mailboxes) and
writes that to a state file; the processes keep running after it returns. ``down`` stops exactly the processes recorded in the
state file (a pid now used by some other program is left alone) and removes the temporary root.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from sandbox.real_freescout.manager import RealFreeScout
from sandbox.real_freescout.processes import Started
from sandbox.real_freescout.tools import Unavailable

DEFAULT_STATE = Path(tempfile.gettempdir()) / "real-freescout.json"


def _up(state: Path) -> int:
    if state.exists():
        print(f"{state} exists: run `down` first (or pass --state)", file=sys.stderr)
        return 1
    fs = RealFreeScout()
    try:
        fs.start()
    except BaseException:
        fs.stop()
        raise
    described = fs.describe()
    state.write_text(json.dumps(described, indent=2) + "\n")
    print(json.dumps(described, indent=2))
    print(f"\nstate: {state}\nstop it with: python -m sandbox.real_freescout down --state {state}")
    return 0


def _load(state: Path) -> dict[str, Any]:
    if not state.exists():
        raise SystemExit(f"no state file at {state}: nothing was started with `up`")
    loaded: dict[str, Any] = json.loads(state.read_text())
    return loaded


def _down(state: Path) -> int:
    described = _load(state)
    for record in reversed(described["processes"]):
        Started(str(record["name"]), int(record["pid"]), str(record["marker"])).stop()
    shutil.rmtree(described["root"], ignore_errors=True)
    state.unlink()
    print(f"stopped {len(described['processes'])} processes and removed {described['root']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.real_freescout", description=__doc__)
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help=f"default {DEFAULT_STATE}")
    args = parser.parse_args(argv)
    try:
        return _up(args.state) if args.command == "up" else _down(args.state)
    except Unavailable as missing:
        print(f"real FreeScout unavailable: {missing}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
