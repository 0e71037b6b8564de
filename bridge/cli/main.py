"""``freescout-bridge``: the operator's command line (also ``python -m bridge``).

Sub-commands: ``check`` (the doctor), ``sync`` (one conversation now), ``sweep`` (the reconciler, for cron
or Heroku Scheduler; handed to the web process when ``BRIDGE_URL`` is set) and ``serve`` (the Procfile's
web process). Human output by default, one JSON object on stdout with ``--json``; logs go to stderr. The
runners live in ``bridge.cli.commands`` and ``bridge.cli.remote``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import shlex
import sys
import textwrap
from collections.abc import Mapping, Sequence

from bridge import logs
from bridge.cli.commands import Result, run_check, run_sweep, run_sync
from bridge.cli.doctor import Exit
from bridge.cli.remote import local_pass_refused, run_sweep_via
from bridge.settings import MailboxRef, Settings, SettingsError, load_settings, mailbox_ref

EXIT_CODES = """exit codes:
  0  ok: every check passed, or the command did what it says
  1  a check failed, or the decision could not be carried out (the output says what to fix)
  2  usage error, or missing/invalid settings (the output names each variable)
  3  FreeScout or GitHub unreachable (network, timeout, 5xx, rate limit): try again later"""

#: The web process, exactly as the Procfile runs it (a test keeps the two identical).
UVICORN_APP = "bridge.app:app_from_env"
UVICORN_FLAGS = (
    "--workers",
    "1",
    "--loop",
    "uvloop",
    "--http",
    "h11",
    "--h11-max-incomplete-event-size",
    "16384",
    "--limit-concurrency",
    "64",
    "--timeout-keep-alive",
    "5",
    "--no-access-log",
    "--no-server-header",
)


def serve_argv(host: str, port: str) -> list[str]:
    """``uvicorn`` and its arguments for the web process (the Procfile's ``web:`` line)."""
    return ["uvicorn", UVICORN_APP, "--factory", "--host", host, "--port", port, *UVICORN_FLAGS]


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str,
    *,
    json_flag: bool = True,
) -> argparse.ArgumentParser:
    """One sub-command with the shared help layout: the exit codes in every ``--help``."""
    command = sub.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description, 100),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if json_flag:
        command.add_argument(
            "--json", action="store_true", help="print one JSON object on stdout (for scripts)"
        )
    return command


def _add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = _command(
        sub,
        "check",
        "check the whole deployment and print a fix for every failure",
        "Check settings, FreeScout (API key, mailboxes and their github_issue_url field, bot user), GitHub "
        "(credentials, repository, Issues permission, labels), the autolink flag, and print the webhook "
        "URLs and events to enter in FreeScout. Reads only, unless --fix.",
    )
    check.add_argument(
        "--fix",
        action="store_true",
        help="create the missing GitHub labels (the only write the doctor makes)",
    )
    check.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the bridge's public base URL, for the exact webhook URLs (default: $BRIDGE_PUBLIC_URL)",
    )


def _add_sync(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = _command(
        sub,
        "sync",
        "run Direction A for one conversation now and explain the decision",
        "Decide on fresh FreeScout state whether conversation CONVERSATION_ID gets a GitHub issue, and "
        "link it (when the autolink flag is on). Prints the decision and its reason in one line, and what "
        "was (or would be) written.",
    )
    sync.add_argument(
        "conversation_id", type=int, metavar="CONVERSATION_ID", help="FreeScout conversation id"
    )
    sync.add_argument("--dry-run", action="store_true", help="shadow mode: decide and explain, write nothing")
    sync.add_argument(
        "--closing",
        action="store_true",
        help="also run the closed-ticket step: comment once on the linked issue if the conversation is closed",
    )


def _add_sweep(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sweep = _command(
        sub,
        "sweep",
        "one reconciler pass: link every tagged, unlinked conversation (for cron / Heroku Scheduler)",
        "List active and pending conversations carrying a trigger tag and no link, and send each through "
        "the same path as a webhook. With BRIDGE_URL (or --via) the web process runs the pass, under the "
        "same locks as its webhooks, and this command waits for its result; a pass already running there "
        "is joined. If no web process answers, nothing runs: the command prints the exact --local command "
        "for when the web process is down, and exits 3. Run it from exactly one scheduler "
        "(runbooks/deploy.md).",
    )
    sweep.add_argument("--dry-run", action="store_true", help="shadow mode: report would_link, write nothing")
    sweep.add_argument(
        "--mailbox",
        action="append",
        default=[],
        type=_mailbox_arg,
        metavar="ID_OR_EMAIL",
        help="only this mailbox (repeatable)",
    )
    sweep.add_argument(
        "--limit",
        type=_positive,
        default=None,
        metavar="N",
        help="handle at most N conversations this pass, oldest first; the rest wait for the next pass",
    )
    where = sweep.add_mutually_exclusive_group()
    where.add_argument(
        "--via",
        default=None,
        metavar="URL",
        help="the web process's base URL, which runs the pass (default: $BRIDGE_URL; needs BRIDGE_ADMIN_TOKEN)",
    )
    where.add_argument(
        "--local",
        action="store_true",
        help="run the pass in this process, for when the web process is down (refused while the web process "
        "at BRIDGE_URL answers, unless with --dry-run)",
    )


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = _command(
        sub,
        "serve",
        "run the web process, exactly as the Procfile does (exec uvicorn)",
        "Replace this process with uvicorn serving the bridge, with the Procfile's flags.",
        json_flag=False,
    )
    serve.add_argument("--host", default="0.0.0.0", help="listen address (default 0.0.0.0)")  # noqa: S104
    serve.add_argument("--port", default=None, help="listen port (default $PORT, else 8000)")
    serve.add_argument("--print", action="store_true", help="print the uvicorn command instead of running it")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="freescout-bridge",
        description=textwrap.fill(
            "Operate the FreeScout ↔ GitHub bridge. Settings come from the environment "
            "(runbooks/deploy.md) and BRIDGE_CONFIG (default config/bridge.toml).",
            100,
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_check, _add_sync, _add_sweep, _add_serve):
        add(sub)
    return parser


def emit(result: Result, as_json: bool) -> int:
    """Write the result: one JSON object, or the human text; return the exit code."""
    if as_json:
        print(json.dumps(result.data, sort_keys=True, ensure_ascii=False))
    elif result.text:
        print(result.text)
    return int(result.exit)


def settings_failure(exc: SettingsError, as_json: bool) -> int:
    message = f"{exc}. Run `freescout-bridge check` for a fix per item."
    return emit(Result(Exit.USAGE, {"error": "settings", "message": message}, message), as_json)


def _settings(env: Mapping[str, str]) -> Settings:
    settings = load_settings(env)
    logs.configure(settings.secrets(), env.get("LOG_LEVEL", "WARNING"), sys.stderr)
    return settings


def _mailbox_arg(value: str) -> MailboxRef:
    try:
        return mailbox_ref(value, names=True)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def dispatch(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if args.command == "serve":
        return serve(args, env)
    as_json = bool(args.json)
    if args.command == "check":
        with contextlib.suppress(SettingsError):
            _settings(env)  # registers the secrets with the log redactor; the doctor lists problems
        public_url = args.public_url if args.public_url is not None else env.get("BRIDGE_PUBLIC_URL", "")
        return emit(asyncio.run(run_check(env, public_url, fix=args.fix)), as_json)
    try:
        settings = _settings(env)
    except SettingsError as exc:
        return settings_failure(exc, as_json)
    if args.command == "sync":
        result = asyncio.run(
            run_sync(settings, args.conversation_id, dry_run=args.dry_run, closing=args.closing)
        )
    else:
        result = asyncio.run(_sweep(args, env, settings))
    return emit(result, as_json)


async def _sweep(args: argparse.Namespace, env: Mapping[str, str], settings: Settings) -> Result:
    """Through the web process when it has a URL (the single writer), else here."""
    refs = tuple(args.mailbox)
    configured = env.get("BRIDGE_URL", "").strip()
    via = "" if args.local else (args.via if args.via is not None else configured).strip()
    if via:
        return await run_sweep_via(settings, via, dry_run=args.dry_run, mailboxes=refs, limit=args.limit)
    if configured and not args.dry_run:
        refused = await local_pass_refused(configured)
        if refused is not None:
            return refused
    return await run_sweep(settings, dry_run=args.dry_run, mailboxes=refs, limit=args.limit)


def serve(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Validate the settings, then exec uvicorn with the Procfile's arguments."""
    port = args.port or env.get("PORT") or "8000"
    argv = serve_argv(args.host, port)
    if args.print:
        print(shlex.join(argv))
        return int(Exit.OK)
    try:
        load_settings(env)
    except SettingsError as exc:
        return settings_failure(exc, False)
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", *argv])  # noqa: S606 - our own interpreter, fixed args
    return int(Exit.FAILED)  # pragma: no cover - execv does not return


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. Reads the environment once, here at the edge."""
    env = dict(os.environ)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")  # a non-UTF-8 terminal gets "?" rather than a crash
    logs.configure((), env.get("LOG_LEVEL", "WARNING"), sys.stderr)
    args = _parser().parse_args(argv)
    try:
        return dispatch(args, env)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the outermost edge: one redacted log line, no traceback
        logs.get_logger().error("cli_failed", command=args.command, error=type(exc).__name__, detail=str(exc))
        message = f"{args.command} failed: unexpected {type(exc).__name__} (details in the log on stderr)"
        failed = Result(Exit.FAILED, {"error": "unexpected", "message": message}, message)
        return emit(failed, bool(getattr(args, "json", False)))
