"""Profile the bridge's per-delivery cost in-process (no network): where do the microseconds go?

    .venv/bin/python -m bench.profile_hot_path            # per-request cost of each decidable delivery
    .venv/bin/python -m bench.profile_hot_path --profile  # plus a cProfile of the mix

The ASGI app is called directly with a prepared scope, so this isolates Starlette + the bridge from the
HTTP server. Upstreams are never called for these deliveries; a dead URL proves it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.baseline_app import create_app as baseline
from bench.payloads import BENCH_CONFIG, signed_requests
from bridge import logs
from bridge.app import create_app
from bridge.settings import load_settings

PATH = "/api/webhooks/freescout/support"


def settings() -> Any:
    config = Path(tempfile.mkdtemp()) / "bridge.toml"
    config.write_text(BENCH_CONFIG)
    env = {
        "FREESCOUT_URL": "http://127.0.0.1:9",
        "FREESCOUT_API_KEY": "k" * 32,
        "FREESCOUT_WEBHOOK_SECRET": "0123456789abcdef0123456789abcdef",
        "FREESCOUT_BOT_USER_ID": "9",
        "GITHUB_REPOSITORY": "acme/app",
        "GITHUB_API_URL": "http://127.0.0.1:9",
        "GITHUB_ISSUE_BOT_TOKEN": "t" * 40,
        "BRIDGE_CONFIG": str(config),
    }
    return load_settings(env)


async def call(app: Any, event: str, signature: str, body: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-freescout-event", event.encode()),
            (b"x-freescout-signature", signature.encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def lifespan_started(app: Any) -> Any:
    ctx = app.router.lifespan_context(app)
    await ctx.__aenter__()
    return ctx


async def measure(n: int, profile: bool) -> None:
    s = settings()
    devnull = open(os.devnull, "w")
    level = os.environ.get("LOG_LEVEL", "INFO")  # WARNING drops the summary line: what logging costs
    logs.configure(s.secrets(), level, stream=devnull, cache=True)  # cache=True as app_from_env does
    bridge = create_app(s)
    ctx = await lifespan_started(bridge)
    base = baseline()
    requests = signed_requests()
    for label, app, items in [("baseline", base, requests[:1])] + [(r[0], bridge, [r]) for r in requests]:
        for _name, event, raw, sig, _reason in items:
            for _ in range(200):
                await call(app, event, sig, raw)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                status = await call(app, event, sig, raw)
            per = (time.perf_counter() - t0) / n * 1e6
            cpu = (time.process_time() - c0) / n * 1e6
            print(f"{label:>18}: {per:7.1f} µs wall, {cpu:7.1f} µs CPU per request (status {status})")
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(n):
            _name, event, raw, sig, _reason = requests[i % len(requests)]
            await call(bridge, event, sig, raw)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(35)
        print(out.getvalue())
    await ctx.__aexit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(measure(args.n, args.profile))


if __name__ == "__main__":
    main()
