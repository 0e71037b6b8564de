"""Control plane of the local GitHub simulator for the return path: people acting on issues, and webhooks.

Key-less ``/_sim`` routes, like the rest of the control plane:

- ``POST /_sim/issues/{n}/close`` ``{"user": "dev", "state_reason": "completed", "commit_id": "…"}``,
  ``POST /_sim/issues/{n}/reopen`` ``{"user": "dev"}``, ``POST /_sim/issues/{n}/comments``
  ``{"user": "dev", "body": "/support …", "type": "User"}``: what an engineer does in GitHub's UI, with the
  webhooks GitHub sends for it. The issue's ``closed_at``, ``closed_by`` and ``state_reason`` follow.
- ``POST /_sim/hooks`` ``{"url", "secret", "events": ["issues", "issue_comment"], "content_type": "json"}``
  registers a repository webhook (and sends ``ping``); ``GET /_sim/hooks`` lists them.
- ``GET /_sim/hooks/deliveries`` lists every delivery with its last answer; ``POST
  /_sim/hooks/deliveries/{guid}/redeliver`` sends one again (same GUID and body).
- ``POST /_sim/hooks/pause`` ``{"paused": true}`` records events without sending them (a receiver that is
  down: GitHub marks those deliveries failed and never retries); ``POST /_sim/hooks/wait-idle`` returns
  once every send in flight has been answered.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import github_render as render
from sandbox.asgi import parse_json_bytes
from sandbox.github_http import base_url
from sandbox.github_state import GitHubSim
from sandbox.github_store import Actor, Issue, Repo

REASONS = ("completed", "not_planned", "duplicate")


def _sim(request: Request) -> GitHubSim:
    sim: GitHubSim = request.app.state.sim
    return sim


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = parse_json_bytes(raw) if raw.strip() else {}
    return data if isinstance(data, dict) else {}


def _actor(spec: dict[str, Any]) -> Actor:
    login = str(spec.get("user") or "octocat")
    return Actor(login, 1000 + sum(login.encode()) % 9000, str(spec.get("type") or "User"))


def _target(sim: GitHubSim, request: Request, spec: dict[str, Any]) -> tuple[Repo, Issue] | Response:
    repo = sim.store.repo(*str(spec.get("repo") or sim.config.repos[0]).split("/", 1))
    if repo is None:
        return JSONResponse({"error": "unknown repo"}, status_code=404)
    issue = repo.issues.get(int(request.path_params["number"]))
    if issue is None:
        return JSONResponse({"error": "unknown issue"}, status_code=404)
    return repo, issue


async def change_state(request: Request) -> Response:
    sim, spec = _sim(request), await _body(request)
    found = _target(sim, request, spec)
    if isinstance(found, Response):
        return found
    repo, issue = found
    closing = request.url.path.endswith("/close")
    reason = spec.get("state_reason", "completed") if closing else None
    if closing and reason not in REASONS:
        return JSONResponse({"error": f"state_reason must be one of {', '.join(REASONS)}"}, status_code=400)
    actor = _actor(spec)
    commit = str(spec["commit_id"]) if spec.get("commit_id") else None
    action = sim.store.set_state(issue, "closed" if closing else "open", reason, actor, commit)
    base, web = base_url(request), sim.config.html_base_url
    if action is not None:
        sim.hooks.issue_event(action, repo, issue, actor, base, web)
    return JSONResponse(render.issue(repo, issue, base, web))


async def comment_as(request: Request) -> Response:
    sim, spec = _sim(request), await _body(request)
    found = _target(sim, request, spec)
    if isinstance(found, Response):
        return found
    repo, issue = found
    if not isinstance(spec.get("body"), str):
        return JSONResponse({"error": "body is required"}, status_code=400)
    comment = sim.store.add_comment(issue, _actor(spec), spec["body"])
    base, web = base_url(request), sim.config.html_base_url
    sim.hooks.comment_event(repo, issue, comment, base, web)
    return JSONResponse(render.comment(repo, comment, base, web), status_code=201)


async def hooks(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "GET":
        return JSONResponse({"hooks": [h.to_json() for h in sim.hooks.hooks.values()]})
    spec = await _body(request)
    if not isinstance(spec.get("url"), str):
        return JSONResponse({"error": "url is required"}, status_code=400)
    content_type = str(spec.get("content_type") or "json")
    if content_type not in ("json", "form"):
        return JSONResponse({"error": "content_type is json or form"}, status_code=400)
    events = [str(e) for e in spec.get("events") or []]
    hook = sim.hooks.register(spec["url"], str(spec.get("secret") or ""), events, content_type)
    repo = sim.store.repo(*sim.config.repos[0].split("/", 1))
    if repo is not None and spec.get("ping", True):
        sim.hooks.ping(hook, repo, base_url(request), sim.config.html_base_url)
    return JSONResponse(hook.to_json(), status_code=201)


async def deliveries(request: Request) -> Response:
    return JSONResponse({"deliveries": [d.to_json() for d in _sim(request).hooks.deliveries]})


async def redeliver(request: Request) -> Response:
    delivery = _sim(request).hooks.redeliver(str(request.path_params["guid"]))
    if delivery is None:
        return JSONResponse({"error": "unknown delivery"}, status_code=404)
    return JSONResponse({"guid": delivery.guid, "redelivery": True}, status_code=202)


async def pause(request: Request) -> Response:
    sim = _sim(request)
    sim.hooks.paused = bool((await _body(request)).get("paused", True))
    return JSONResponse({"paused": sim.hooks.paused})


async def wait_idle(request: Request) -> Response:
    await _sim(request).hooks.idle()
    return Response(status_code=204)


ROUTES = [
    Route("/_sim/issues/{number:int}/close", change_state, methods=["POST"]),
    Route("/_sim/issues/{number:int}/reopen", change_state, methods=["POST"]),
    Route("/_sim/issues/{number:int}/comments", comment_as, methods=["POST"]),
    Route("/_sim/hooks", hooks, methods=["GET", "POST"]),
    Route("/_sim/hooks/deliveries", deliveries, methods=["GET"]),
    Route("/_sim/hooks/deliveries/{guid}/redeliver", redeliver, methods=["POST"]),
    Route("/_sim/hooks/pause", pause, methods=["POST"]),
    Route("/_sim/hooks/wait-idle", wait_idle, methods=["POST"]),
]
