"""Issue and comment endpoints of the local GitHub simulator (docs/upstream/github.md section 1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import github_render as render
from sandbox.github_http import (
    BODY_LIMIT,
    TITLE_LIMIT,
    ApiError,
    Ctx,
    context,
    error_response,
    invalid,
    json_body,
    label_names,
    not_found,
    paginate,
    parse_since,
)
from sandbox.github_store import Issue

Endpoint = Callable[[Request], Awaitable[Response]]
STATE_REASONS = ("completed", "not_planned", "reopened", "duplicate")


def endpoint(handler: Endpoint) -> Endpoint:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc)

    return wrapped


def _filters(ctx: Ctx, request: Request) -> list[Callable[[Issue], bool]]:
    q = request.query_params
    state = q.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise invalid("Issue", "state", "invalid", value=state)
    checks: list[Callable[[Issue], bool]] = []
    if state != "all":
        checks.append(lambda i: i.state == state)
    wanted = [n.strip() for n in q.get("labels", "").split(",") if n.strip()]
    if wanted:
        ids = [ctx.repo.label_named(n) for n in wanted]
        label_ids = {lb.id for lb in ids if lb is not None}
        checks.append(lambda i: None not in ids and label_ids.issubset(i.labels))
    if creator := q.get("creator"):
        checks.append(lambda i: i.user.login.lower() == creator.lower())
    if assignee := q.get("assignee"):
        if assignee == "none":
            checks.append(lambda i: not i.assignees)
        elif assignee == "*":
            checks.append(lambda i: bool(i.assignees))
        else:
            checks.append(lambda i: assignee.lower() in (a.lower() for a in i.assignees))
    if q.get("milestone") not in (None, "none"):
        checks.append(lambda i: False)  # the simulator has no milestones
    if (since := parse_since(q.get("since"), "Issue")) is not None:
        checks.append(lambda i: i.updated_at >= since)
    return checks


async def list_issues(request: Request) -> Response:
    ctx = context(request)
    q = request.query_params
    sort, direction = q.get("sort", "created"), q.get("direction", "desc")
    if sort not in ("created", "updated", "comments"):
        raise invalid("Issue", "sort", "invalid", value=sort)
    if direction not in ("asc", "desc"):
        raise invalid("Issue", "direction", "invalid", value=direction)
    checks = _filters(ctx, request)
    issues = [i for i in ctx.repo.issues.values() if all(check(i) for check in checks)]
    keys: dict[str, Callable[[Issue], Any]] = {
        "created": lambda i: (i.created_at, i.number),
        "updated": lambda i: (i.updated_at, i.number),
        "comments": lambda i: (len(i.comments), i.number),
    }
    issues.sort(key=keys[sort], reverse=direction == "desc")
    chunk, headers = paginate(request, issues)
    return JSONResponse([render.issue(ctx.repo, i, ctx.base, ctx.web) for i in chunk], headers=headers)


def _title(value: Any) -> str:
    if value is None:
        raise invalid("Issue", "title", "missing_field")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise invalid("Issue", "title", "invalid", value=value)
    title = str(value)
    if len(title) > TITLE_LIMIT:
        raise invalid("Issue", "title", "custom", f"title is too long (maximum is {TITLE_LIMIT} characters)")
    return title


def _body(value: Any, resource: str, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid(resource, "body", "invalid", value=value)
    if value is not None and len(value) > BODY_LIMIT:
        code = "custom" if resource == "Issue" else "unprocessable"
        raise invalid(resource, field, code, f"Body is too long (maximum is {BODY_LIMIT} characters)")
    return value


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("Issue", "body", "invalid", "Request body must be a JSON object")
    return body


def _string_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid("Issue", field, "invalid", value=value)
    return list(value)


async def create_issue(request: Request) -> Response:
    ctx = context(request)
    data = _object(await json_body(request))
    title = _title(data.get("title"))
    body = _body(data.get("body"), "Issue", "body")
    labels = label_names(data.get("labels", []))
    if labels is None:
        raise invalid("Issue", "labels", "invalid", value=data.get("labels"))
    if data.get("milestone") is not None:
        raise invalid("Issue", "milestone", "invalid", value=data.get("milestone"))
    assignees = _string_list(data.get("assignees"), "assignees")
    if isinstance(data.get("assignee"), str):
        assignees.insert(0, data["assignee"])
    issue = ctx.sim.store.create_issue(ctx.repo, ctx.identity.actor, title, body, labels, assignees)
    out = render.issue(ctx.repo, issue, ctx.base, ctx.web)
    return JSONResponse(out, status_code=201, headers={"Location": out["url"]})


async def get_issue(request: Request) -> Response:
    ctx = context(request)
    issue = ctx.issue(int(request.path_params["number"]))
    return JSONResponse(render.issue(ctx.repo, issue, ctx.base, ctx.web))


async def update_issue(request: Request) -> Response:
    ctx = context(request)
    issue = ctx.issue(int(request.path_params["number"]))
    data = _object(await json_body(request))
    title = _title(data["title"]) if "title" in data else issue.title
    body = data.get("body", issue.body)
    if not isinstance(body, str | None):
        raise invalid("Issue", "body", "invalid", value=body)
    reason = data.get("state_reason")
    if reason is not None and reason not in STATE_REASONS:
        raise invalid("Issue", "state_reason", "invalid", value=reason)
    state = data.get("state", issue.state)
    if state not in ("open", "closed"):
        raise invalid("Issue", "state", "invalid", value=state)
    labels = label_names(data["labels"]) if "labels" in data else None
    if "labels" in data and labels is None:
        raise invalid("Issue", "labels", "invalid", value=data["labels"])
    if data.get("milestone") is not None:
        raise invalid("Issue", "milestone", "invalid", value=data["milestone"])
    assignees = _string_list(data["assignees"], "assignees") if "assignees" in data else issue.assignees
    issue.title, issue.assignees = title, assignees
    if body is None or len(body) <= BODY_LIMIT:  # quirk: too long answers 200 and keeps the old body
        issue.body = body
    if labels is not None:
        ctx.sim.store.set_labels(ctx.repo, issue, labels)
    action = ctx.sim.store.set_state(issue, state, reason, ctx.identity.actor)
    if action is not None and not issue.pull_request:
        ctx.sim.hooks.issue_event(action, ctx.repo, issue, ctx.identity.actor, ctx.base, ctx.web)
    return JSONResponse(render.issue(ctx.repo, issue, ctx.base, ctx.web))


async def list_comments(request: Request) -> Response:
    ctx = context(request)
    issue = ctx.issue(int(request.path_params["number"]))
    since = parse_since(request.query_params.get("since"), "IssueComment")
    comments = sorted(
        (c for c in issue.comments if since is None or c.updated_at >= since), key=lambda c: c.id
    )
    chunk, headers = paginate(request, comments)
    return JSONResponse([render.comment(ctx.repo, c, ctx.base, ctx.web) for c in chunk], headers=headers)


async def create_comment(request: Request) -> Response:
    ctx = context(request)
    issue = ctx.issue(int(request.path_params["number"]))
    data = await json_body(request)
    if not isinstance(data, dict) or data.get("body") is None:
        raise invalid("IssueComment", "body", "missing_field")
    body = _body(data["body"], "IssueComment", "data")
    assert body is not None
    comment = ctx.sim.store.add_comment(issue, ctx.identity.actor, body)
    ctx.sim.hooks.comment_event(ctx.repo, issue, comment, ctx.base, ctx.web)  # echoes too, as GitHub does
    out = render.comment(ctx.repo, comment, ctx.base, ctx.web)
    return JSONResponse(out, status_code=201, headers={"Location": out["url"]})


async def comment_by_id(request: Request) -> Response:
    ctx = context(request)
    found = ctx.repo.find_comment(int(request.path_params["comment_id"]))
    if found is None:
        raise not_found()
    _, comment = found
    if request.method == "PATCH":
        data = await json_body(request)
        if not isinstance(data, dict) or data.get("body") is None:
            raise invalid("IssueComment", "body", "missing_field")
        comment.body = _body(data["body"], "IssueComment", "data") or ""
        comment.updated_at = ctx.sim.store.now()
    return JSONResponse(render.comment(ctx.repo, comment, ctx.base, ctx.web))


async def list_events(request: Request) -> Response:
    """``GET …/issues/{n}/events``: the closed and reopened events (the only kinds the simulator keeps)."""
    ctx = context(request)
    issue = ctx.issue(int(request.path_params["number"]))
    chunk, headers = paginate(request, issue.events)
    return JSONResponse([render.issue_event(ctx.repo, e, ctx.base, ctx.web) for e in chunk], headers=headers)


REPO = "/repos/{owner}/{repo}"
ROUTES = [
    Route(f"{REPO}/issues", endpoint(list_issues), methods=["GET"]),
    Route(f"{REPO}/issues", endpoint(create_issue), methods=["POST"]),
    Route(f"{REPO}/issues/comments/{{comment_id:int}}", endpoint(comment_by_id), methods=["GET", "PATCH"]),
    Route(f"{REPO}/issues/{{number:int}}", endpoint(get_issue), methods=["GET"]),
    Route(f"{REPO}/issues/{{number:int}}", endpoint(update_issue), methods=["PATCH"]),
    Route(f"{REPO}/issues/{{number:int}}/comments", endpoint(list_comments), methods=["GET"]),
    Route(f"{REPO}/issues/{{number:int}}/comments", endpoint(create_comment), methods=["POST"]),
    Route(f"{REPO}/issues/{{number:int}}/events", endpoint(list_events), methods=["GET"]),
]
