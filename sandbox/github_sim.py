"""Local GitHub simulator (REST issues API), as a Starlette app.

This is a **local simulator** for tests and demos, not GitHub. It follows
docs/upstream/github.md sections 1 and 3: issues, comments and labels with GitHub's shapes,
validation errors, ``Link`` pagination and ``x-ratelimit-*`` headers; PAT and GitHub App
(JWT -> installation token) auth; secondary content limits with violation accounting;
and switchable fault injection. ``/_sim`` is the key-less control plane for tests.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import github_api, github_api_labels, github_control
from sandbox import github_render as render
from sandbox.asgi import RecorderMiddleware, SimStarlette, parse_json_bytes, recorded_requests
from sandbox.github_gate import GitHubGate
from sandbox.github_http import base_url
from sandbox.github_state import DEFAULT_LABELS, GitHubSim, GitHubSimConfig
from sandbox.github_store import Actor

__all__ = ["DEFAULT_LABELS", "GitHubSim", "GitHubSimConfig", "create_app"]


def _sim(request: Request) -> GitHubSim:
    sim: GitHubSim = request.app.state.sim
    return sim


async def _json(request: Request) -> Any:
    return parse_json_bytes(await request.body())


async def state(request: Request) -> Response:
    return JSONResponse(_sim(request).state_dump(base_url(request)))


async def stats(request: Request) -> Response:
    return JSONResponse(_sim(request).limits.stats_json())


async def reset(request: Request) -> Response:
    _sim(request).reset()
    return Response(status_code=204)


async def faults(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "DELETE":
        sim.faults.clear()
        return Response(status_code=204)
    if request.method == "GET":
        return JSONResponse({"faults": sim.faults.to_json()})
    spec = await _json(request)
    specs = spec if isinstance(spec, list) else [spec]
    try:
        added = [sim.faults.add(s if isinstance(s, dict) else {}) for s in specs]
    except (ValueError, TypeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    body = [f.to_json() for f in added]
    return JSONResponse(body if isinstance(spec, list) else body[0], status_code=201)


async def seed_issues(request: Request) -> Response:
    """Seed issues (or pull requests) directly, bypassing limits, faults and recording."""
    sim = _sim(request)
    spec = await _json(request)
    if not isinstance(spec, dict) or not isinstance(spec.get("title"), str):
        return JSONResponse({"error": "title is required"}, status_code=400)
    repo = sim.store.repo(*str(spec.get("repo") or sim.config.repos[0]).split("/", 1))
    if repo is None:
        return JSONResponse({"error": "unknown repo"}, status_code=404)
    author = Actor(str(spec.get("user") or "octocat"), 583231 if not spec.get("user") else 1000)
    count = int(spec.get("count", 1))
    created = []
    for k in range(1, count + 1):
        title = spec["title"] if count == 1 else f"{spec['title']} {k}"
        issue = sim.store.create_issue(
            repo,
            author,
            title,
            spec.get("body"),
            [str(n) for n in spec.get("labels") or []],
            [str(a) for a in spec.get("assignees") or []],
            pull_request=bool(spec.get("pull_request")),
        )
        for text in spec.get("comments") or []:
            sim.store.add_comment(issue, author, str(text))
        if spec.get("state") == "closed":
            sim.store.set_state(issue, "closed", spec.get("state_reason"), author)
        created.append(render.issue(repo, issue, base_url(request), sim.config.html_base_url))
    return JSONResponse(created[0] if count == 1 else created, status_code=201)


CONTROL_ROUTES = [
    Route("/_sim/requests", recorded_requests, methods=["GET", "DELETE"]),
    Route("/_sim/state", state, methods=["GET"]),
    Route("/_sim/stats", stats, methods=["GET"]),
    Route("/_sim/reset", reset, methods=["POST"]),
    Route("/_sim/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_sim/issues", seed_issues, methods=["POST"]),
]


async def _not_found(request: Request, exc: Exception) -> Response:
    body = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}
    return JSONResponse(body, status_code=404)


def create_app(config: GitHubSimConfig | None = None) -> Starlette:
    """Build the local GitHub simulator; ``app.state.sim`` is its :class:`GitHubSim`."""
    sim = GitHubSim(config or GitHubSimConfig())
    app = SimStarlette(
        routes=[*github_api.ROUTES, *github_api_labels.ROUTES, *CONTROL_ROUTES, *github_control.ROUTES],
        middleware=[
            Middleware(RecorderMiddleware, log=sim.requests, secret_headers=("authorization",)),
            Middleware(GitHubGate, sim=sim),
        ],
        exception_handlers={404: _not_found},
    )
    app.state.sim = sim
    return app
