"""``python -m bridge``: the same command line as ``freescout-bridge``."""

from __future__ import annotations

from bridge.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
