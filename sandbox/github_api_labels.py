"""Label, repository, rate-limit and GitHub App endpoints of the local GitHub simulator."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import github_render as render
from sandbox.github_api import endpoint
from sandbox.github_auth import Identity
from sandbox.github_http import (
    DOCS,
    ApiError,
    Ctx,
    context,
    invalid,
    json_body,
    label_names,
    not_found,
    paginate,
)
from sandbox.github_state import GitHubSim
from sandbox.github_store import Issue


def _issue_labels(ctx: Ctx, issue: Issue) -> list[dict[str, Any]]:
    return [
        render.label(ctx.repo, ctx.repo.labels[i], ctx.base) for i in issue.labels if i in ctx.repo.labels
    ]


def _names_from(data: Any, *, allow_empty: bool) -> list[str]:
    """``{"labels": [...]}`` (the described form) or a bare array (what PyGithub sends)."""
    raw = data.get("labels") if isinstance(data, dict) else data
    names = label_names(raw)
    if names is None or (not names and not allow_empty):
        raise invalid("Label", "labels", "invalid" if names is None else "missing_field", value=raw)
    return names


async def issue_labels(request: Request) -> Response:
    ctx = context(request)
    issue = ctx.issue(int(request.path_params["number"]))
    store = ctx.sim.store
    if request.method == "GET":
        chunk, headers = paginate(request, _issue_labels(ctx, issue))
        return JSONResponse(chunk, headers=headers)
    if request.method == "DELETE":
        store.set_labels(ctx.repo, issue, [])
        return Response(status_code=204)
    data = await json_body(request)
    if request.method == "POST":
        store.add_labels(ctx.repo, issue, _names_from(data, allow_empty=False))
    else:
        store.set_labels(ctx.repo, issue, _names_from(data if data is not None else [], allow_empty=True))
    return JSONResponse(_issue_labels(ctx, issue))


async def remove_issue_label(request: Request) -> Response:
    ctx = context(request)
    issue = ctx.issue(int(request.path_params["number"]))
    if not ctx.sim.store.remove_label(ctx.repo, issue, request.path_params["name"]):
        docs = f"{DOCS}/issues/labels#remove-a-label-from-an-issue"
        raise ApiError(404, {"message": "Label does not exist", "documentation_url": docs, "status": "404"})
    return JSONResponse(_issue_labels(ctx, issue))


async def repo_labels(request: Request) -> Response:
    ctx = context(request)
    if request.method == "GET":
        labels = [
            render.label(ctx.repo, lb, ctx.base)
            for lb in sorted(ctx.repo.labels.values(), key=lambda x: x.id)
        ]
        chunk, headers = paginate(request, labels)
        return JSONResponse(chunk, headers=headers)
    data = await json_body(request)
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise invalid("Label", "name", "missing_field")
    if ctx.repo.label_named(name) is not None:
        raise invalid("Label", "name", "already_exists", value=name)
    assert isinstance(data, dict)
    color = str(data.get("color") or "").lstrip("#") or None
    label = ctx.sim.store.ensure_label(ctx.repo, name, color, data.get("description"))
    out = render.label(ctx.repo, label, ctx.base)
    return JSONResponse(out, status_code=201, headers={"Location": out["url"]})


async def repo_label(request: Request) -> Response:
    ctx = context(request)
    label = ctx.repo.label_named(request.path_params["name"])
    if label is None:
        raise not_found(f"{DOCS}/issues/labels#get-a-label")
    return JSONResponse(render.label(ctx.repo, label, ctx.base))


async def get_repo(request: Request) -> Response:
    ctx = context(request)
    return JSONResponse(render.repository(ctx.repo, ctx.base, ctx.web))


def _installation(sim: GitHubSim, base: str, owner: str) -> dict[str, Any]:
    cfg = sim.config
    stamp = "2025-01-01T00:00:00Z"
    return {
        "id": cfg.installation_id,
        "account": render.user(sim.store.repos[next(iter(sim.store.repos))].owner, base, cfg.html_base_url)
        if sim.store.repos
        else None,
        "repository_selection": "selected",
        "access_tokens_url": f"{base}/app/installations/{cfg.installation_id}/access_tokens",
        "repositories_url": f"{base}/installation/repositories",
        "html_url": f"{cfg.html_base_url}/organizations/{owner}/settings/installations/{cfg.installation_id}",
        "app_id": cfg.app_id,
        "app_slug": cfg.app_slug,
        "target_id": 1,
        "target_type": "Organization",
        "permissions": {"issues": "write", "metadata": "read"},
        "events": ["issues", "issue_comment", "label"],
        "created_at": stamp,
        "updated_at": stamp,
        "single_file_name": None,
        "suspended_by": None,
        "suspended_at": None,
    }


async def repo_installation(request: Request) -> Response:
    ctx = context(request)
    return JSONResponse(_installation(ctx.sim, ctx.base, ctx.repo.owner.login))


async def access_tokens(request: Request) -> Response:
    sim: GitHubSim = request.app.state.sim
    if int(request.path_params["installation_id"]) != sim.config.installation_id:
        raise not_found(f"{DOCS}/apps/apps#create-an-installation-access-token-for-an-app")
    data = await json_body(request)
    permissions = data.get("permissions") if isinstance(data, dict) else None
    return JSONResponse(
        sim.credentials.mint(permissions if isinstance(permissions, dict) else None), status_code=201
    )


async def rate_limit(request: Request) -> Response:
    sim: GitHubSim = request.app.state.sim
    identity: Identity = request.scope["sandbox.identity"]
    core = sim.limits.overview(identity.key)
    search = {"limit": 30, "remaining": 30, "reset": core["reset"], "used": 0}
    return JSONResponse({"resources": {"core": core, "search": search, "graphql": core}, "rate": core})


REPO = "/repos/{owner}/{repo}"
ROUTES = [
    Route(REPO, endpoint(get_repo), methods=["GET"]),
    Route(f"{REPO}/installation", endpoint(repo_installation), methods=["GET"]),
    Route(f"{REPO}/labels", endpoint(repo_labels), methods=["GET", "POST"]),
    Route(f"{REPO}/labels/{{name:path}}", endpoint(repo_label), methods=["GET"]),
    Route(
        f"{REPO}/issues/{{number:int}}/labels",
        endpoint(issue_labels),
        methods=["GET", "POST", "PUT", "DELETE"],
    ),
    Route(
        f"{REPO}/issues/{{number:int}}/labels/{{name:path}}", endpoint(remove_issue_label), methods=["DELETE"]
    ),
    Route(
        "/app/installations/{installation_id:int}/access_tokens", endpoint(access_tokens), methods=["POST"]
    ),
    Route("/rate_limit", endpoint(rate_limit), methods=["GET"]),
]
