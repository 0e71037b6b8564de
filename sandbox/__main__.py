"""Run one local simulator from the shell.

python -m sandbox freescout --port 8081 [--api-key K --webhook-secret S ...]
python -m sandbox github --port 8082 [--token T --repo acme/app ...]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette

from sandbox import freescout_sim, github_sim


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Local FreeScout/GitHub simulators."
    )
    sub = parser.add_subparsers(dest="which", required=True)
    fs = sub.add_parser("freescout", help="local FreeScout (API & Webhooks module) simulator")
    fs.add_argument("--api-key", default=freescout_sim.FreeScoutSimConfig.api_key)
    fs.add_argument("--webhook-secret", default=freescout_sim.FreeScoutSimConfig.webhook_secret)
    fs.add_argument("--bot-user-id", type=int, default=freescout_sim.FreeScoutSimConfig.bot_user_id)
    fs.add_argument("--retry-delays", default=",".join(str(d) for d in freescout_sim.DEFAULT_RETRY_DELAYS))
    fs.add_argument("--delivery-timeout", type=float, default=30.0)
    fs.add_argument("--undo-delay", type=float, default=0.0)
    fs.add_argument("--no-seed", action="store_true", help="start without demo users/mailboxes")
    gh = sub.add_parser("github", help="local GitHub REST issues API simulator")
    gh.add_argument("--token", default=github_sim.GitHubSimConfig.token)
    gh.add_argument("--repo", action="append", help="owner/name (repeatable; default acme/app)")
    gh.add_argument("--content-per-minute", type=int, default=github_sim.GitHubSimConfig.content_per_minute)
    gh.add_argument("--content-per-hour", type=int, default=github_sim.GitHubSimConfig.content_per_hour)
    gh.add_argument("--installation-id", type=int, default=github_sim.GitHubSimConfig.installation_id)
    for p in (fs, gh):
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--log-level", default="info")
    return parser


def build_app(args: argparse.Namespace) -> Starlette:
    if args.which == "freescout":
        delays = tuple(float(d) for d in args.retry_delays.split(",") if d.strip())
        return freescout_sim.create_app(
            freescout_sim.FreeScoutSimConfig(
                api_key=args.api_key,
                webhook_secret=args.webhook_secret,
                bot_user_id=args.bot_user_id,
                retry_delays=delays,
                seed_demo=not args.no_seed,
                delivery_timeout=args.delivery_timeout,
                undo_delay=args.undo_delay,
            )
        )
    return github_sim.create_app(
        github_sim.GitHubSimConfig(
            token=args.token,
            repos=tuple(args.repo or ("acme/app",)),
            content_per_minute=args.content_per_minute,
            content_per_hour=args.content_per_hour,
            installation_id=args.installation_id,
        )
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    uvicorn.run(build_app(args), host=args.host, port=args.port, log_level=args.log_level, ws="none")


if __name__ == "__main__":
    main()
