"""Validate GitHub REST traffic against GitHub's own OpenAPI description.

Reusable by any test: the schema is ``tests/data/github-issues.openapi.json`` (trimmed
from npm ``@octokit/openapi`` 23.0.2, see ``tests/data/README.md``). Paths are matched
against the description's templates, so pass the path as sent (``/repos/acme/app/issues/7``),
without the base URL.

    errors = request_errors("POST", "/repos/acme/app/issues", {"body": "no title"})
    validate_response("GET", "/repos/acme/app/issues/7", 200, body)   # raises on mismatch

``validate_*`` raise :class:`SchemaMismatch` listing every violation; ``*_errors`` return
the list. Unknown paths and undocumented statuses are violations too. Requests are checked
with OpenAPI write semantics, responses with read semantics, formats (``date-time`` ...)
included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "github-issues.openapi.json"


class SchemaMismatch(AssertionError):
    """Traffic that GitHub's description does not allow."""


@cache
def spec() -> dict[str, Any]:
    """The description, with ``null`` added to every ``nullable`` enum (see below)."""
    with SPEC_PATH.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    _allow_null_in_nullable_enums(loaded)
    return loaded


def _allow_null_in_nullable_enums(node: Any) -> None:
    """OpenAPI 3.0.3 says a nullable enum must list ``null`` to accept it; GitHub's
    description omits it (e.g. ``issue.state_reason``), while GitHub sends ``null``.
    Without this, every open issue GitHub returns would fail validation."""
    if isinstance(node, dict):
        enum = node.get("enum")
        if node.get("nullable") is True and isinstance(enum, list) and None not in enum:
            enum.append(None)
        for value in node.values():
            _allow_null_in_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _allow_null_in_nullable_enums(value)


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in spec()["paths"]:
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        out.append((re.compile(f"^{regex}$"), template))
    # Literal segments beat parameters: fewer "{" first.
    out.sort(key=lambda item: item[1].count("{"))
    return out


def operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """``(template, operation object)`` for a concrete request, or None if undescribed."""
    clean = path.split("?", 1)[0].rstrip("/") or "/"
    for pattern, template in _templates():
        if pattern.match(clean):
            op = spec()["paths"][template].get(method.lower())
            if op is not None:
                return template, op
    return None


def _resolve(node: Mapping[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, _, section, name = str(node["$ref"]).split("/", 3)
        node = spec()["components"][section][name]
    return dict(node)


def _schema_errors(schema: Mapping[str, Any], value: Any, *, write: bool) -> list[str]:
    root = {**schema, "components": spec()["components"]}
    cls = OAS30WriteValidator if write else OAS30ReadValidator
    validator = cls(root, format_checker=oas30_format_checker)
    found = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in found]


def _coerce(schema: Mapping[str, Any], raw: str) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw


def request_errors(
    method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None
) -> list[str]:
    """Violations of the described request: path/query parameters and JSON body."""
    found = operation(method, path)
    if found is None:
        return [f"{method} {path}: not in the description"]
    template, op = found
    errors: list[str] = []
    values = dict(zip(re.findall(r"\{([^}]+)\}", template), _path_values(template, path), strict=True))
    for param in (_resolve(p) for p in op.get("parameters", [])):
        where, name, schema = param["in"], param["name"], param.get("schema", {})
        raw = values.get(name) if where == "path" else (query or {}).get(name) if where == "query" else None
        if raw is None:
            if param.get("required") and where in ("path", "query"):
                errors.append(f"{where} parameter {name}: required")
            continue
        errors += [
            f"{where} parameter {name}: {e}" for e in _schema_errors(schema, _coerce(schema, raw), write=True)
        ]
    described = op.get("requestBody")
    if described is None:
        return errors
    described = _resolve(described)
    if body is None:
        return errors + (["body: required"] if described.get("required") else [])
    schema = described["content"].get("application/json", {}).get("schema", {})
    return errors + [f"body {e}" for e in _schema_errors(schema, body, write=True)]


def _path_values(template: str, path: str) -> list[str]:
    regex = re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template))
    match = re.match(f"^{regex}$", path.split("?", 1)[0].rstrip("/"))
    return list(match.groups()) if match else []


def response_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """Violations of the described response for ``status`` (body only, JSON)."""
    found = operation(method, path)
    if found is None:
        return [f"{method} {path}: not in the description"]
    _, op = found
    described = op["responses"].get(str(status))
    if described is None:
        return [f"{method} {path}: status {status} is not documented ({', '.join(op['responses'])})"]
    described = _resolve(described)
    content = described.get("content", {})
    if not content:
        return [] if body in (None, b"", "") else [f"status {status} documents no body"]
    media = content.get("application/json") or next(iter(content.values()))
    schema = media.get("schema")
    return [] if schema is None else [f"response {e}" for e in _schema_errors(schema, body, write=False)]


def validate_response(method: str, path: str, status: int, body: Any) -> None:
    errors = response_errors(method, path, status, body)
    if errors:
        raise SchemaMismatch(f"{method} {path} -> {status} response:\n  " + "\n  ".join(errors))


def traffic_errors(traffic: list[dict[str, Any]]) -> list[str]:
    """Every request recorded by the GitHub simulator, and every successful answer, against the description."""
    problems: list[str] = []
    for r in traffic:
        query = {k: v if isinstance(v, str) else v[-1] for k, v in (r.get("query") or {}).items()}
        problems += request_errors(r["method"], r["path"], r.get("json"), query)
        if isinstance(r.get("status"), int) and 200 <= r["status"] < 300:
            problems += response_errors(r["method"], r["path"], r["status"], r.get("response"))
    return problems
