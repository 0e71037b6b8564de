"""HTTP helpers of the local GitHub simulator: context lookup, errors, pagination."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.github_auth import Identity
from sandbox.github_state import GitHubSim
from sandbox.github_store import Issue, Repo

BODY_LIMIT = 65536
TITLE_LIMIT = 256
DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """Becomes a GitHub error response in one place (:func:`error_response`)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


def not_found(docs: str = DOCS) -> ApiError:
    return ApiError(404, {"message": "Not Found", "documentation_url": docs, "status": "404"})


def invalid(resource: str, field: str, code: str, message: str | None = None, value: Any = None) -> ApiError:
    entry: dict[str, Any] = {"resource": resource, "field": field, "code": code}
    if message is not None:
        entry["message"] = message
    if value is not None:
        entry["value"] = value
    return ApiError(
        422, {"message": "Validation Failed", "errors": [entry], "documentation_url": DOCS, "status": "422"}
    )


def error_response(exc: ApiError) -> Response:
    return JSONResponse(exc.body, status_code=exc.status)


@dataclass
class Ctx:
    sim: GitHubSim
    repo: Repo
    base: str  # the simulator's own API base URL, from the request
    web: str  # html_url base
    identity: Identity

    def issue(self, number: int) -> Issue:
        found = self.repo.issues.get(number)
        if found is None:
            raise not_found(f"{DOCS}/issues/issues#get-an-issue")
        return found


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def context(request: Request) -> Ctx:
    sim: GitHubSim = request.app.state.sim
    repo = sim.store.repo(request.path_params["owner"], request.path_params["repo"])
    if repo is None:
        raise not_found(f"{DOCS}/repos/repos#get-a-repository")
    identity: Identity = request.scope["sandbox.identity"]
    return Ctx(sim, repo, base_url(request), sim.config.html_base_url, identity)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(
            400, {"message": "Problems parsing JSON", "documentation_url": DOCS, "status": "400"}
        ) from exc


def parse_since(value: str | None, resource: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(resource, "since", "invalid", value=value) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def paginate(request: Request, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """Slice by ``per_page`` (default 30, max 100) and ``page``; build the ``Link`` header."""
    per_page = min(max(_int(request.query_params.get("per_page"), 30), 1), 100)
    page = max(_int(request.query_params.get("page"), 1), 1)
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    if last == 1 and page == 1:
        return chunk, {}

    def link(n: int, rel: str) -> str:
        return f'<{request.url.include_query_params(page=n)}>; rel="{rel}"'

    rels = []
    if page > 1:
        rels.append(link(min(page - 1, last), "prev"))
    if page < last:
        rels += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        rels.append(link(1, "first"))
    return chunk, {"Link": ", ".join(rels)}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def label_names(value: Any) -> list[str] | None:
    """Label list items as names: strings or ``{name: ...}`` objects; None if malformed."""
    if not isinstance(value, list):
        return None
    names = []
    for item in value:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            names.append(item["name"])
        else:
            return None
    return names
