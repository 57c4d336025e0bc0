"""Declare each JSON endpoint once; its route, body and answer become the OpenAPI document.

Also the `api` blueprint (/api) that accounts and lessons add their endpoints to, and the
document's own route. May use Flask, pydantic and core's errors.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from flask import Blueprint, Flask, current_app, jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import Unauthorized

from app.core.errors import Invalid
from app.core.numbers import ID_MAX

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Param:
    """A documented query parameter or request header."""

    name: str
    where: Literal["query", "header"]
    schema: dict[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """One documented JSON operation."""

    endpoint: str
    method: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    many: bool
    status: int
    auth: bool
    responses: dict[int, str] = field(default_factory=dict)
    produces: str = "application/json"
    consumes: str | None = None  # a raw (non-JSON) request body, such as application/sdp
    params: tuple[Param, ...] = ()


_operations: dict[tuple[str, str], Operation] = {}


def parse_body(model: type[BaseModel]) -> BaseModel:
    """Parse and validate the request's JSON body, raising Invalid naming the bad field."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("The request body must be a JSON object.", field="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid.from_validation(exc) from exc


def operation(
    bp: Blueprint,
    rule: str,
    method: str,
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    many: bool = False,
    status: int = 200,
    auth: bool = True,
    responses: dict[int, str] | None = None,
    produces: str = "application/json",
    consumes: str | None = None,
    params: tuple[Param, ...] = (),
) -> Callable[[F], F]:
    """Register a view on the blueprint and record it for the OpenAPI document.

    With `body`, the view receives the validated model as its `body` keyword. `responses` adds
    the statuses particular to this operation to the ones every operation may answer.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if auth and not current_user.is_authenticated:
                raise Unauthorized("Sign in, or send a personal API token as a Bearer token.")
            if body is not None:
                kwargs["body"] = parse_body(body)
            return view(*args, **kwargs)

        wrapper._loupe_auth_required = auth  # type: ignore[attr-defined]
        name = f"{view.__name__}"
        bp.add_url_rule(rule, endpoint=name, view_func=wrapper, methods=[method])
        _operations[(f"{bp.name}.{name}", method)] = Operation(
            endpoint=f"{bp.name}.{name}",
            method=method,
            summary=summary,
            tag=bp.name if bp.name != "api" else _tag_from_rule(rule),
            body=body,
            response=response,
            many=many,
            status=status,
            auth=auth,
            responses=responses or {},
            produces=produces,
            consumes=consumes,
            params=params,
        )
        return wrapper  # type: ignore[return-value]

    return decorate


def _tag_from_rule(rule: str) -> str:
    return rule.strip("/").split("/")[0] or "api"


_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>[a-zA-Z_]+)>")


def _path_and_params(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params: list[dict[str, Any]] = []

    def sub(match: re.Match[str]) -> str:
        schema: dict[str, Any] = {"type": "string"}
        if match["conv"] == "int":  # app.numbers.IdConverter: an id, any other number is a 404
            schema = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
        params.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
        return "{" + match["name"] + "}"

    return _CONVERTER.sub(sub, rule), params


def build_document(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every registered JSON operation."""
    schemas: dict[str, Any] = {"Error": _error_schema()}
    paths: dict[str, dict[str, Any]] = {}

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            schemas[name] = sub
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    for url_rule in app.url_map.iter_rules():
        for method in sorted(url_rule.methods or ()):
            op = _operations.get((url_rule.endpoint, method))
            if op is None:
                continue
            path, params = _path_and_params(url_rule.rule)
            params += [
                {
                    "name": p.name,
                    "in": p.where,
                    "required": p.required,
                    "description": p.description,
                    "schema": p.schema,
                }
                for p in op.params
            ]
            entry: dict[str, Any] = {
                "summary": op.summary,
                "operationId": url_rule.endpoint.replace(".", "_") + "_" + method.lower(),
                "tags": [op.tag],
                "parameters": params,
                "responses": {},
            }
            if op.body is not None:
                entry["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ref(op.body)}},
                }
            elif op.consumes is not None:
                entry["requestBody"] = {
                    "required": True,
                    "content": {op.consumes: {"schema": {"type": "string"}}},
                }
            if op.response is not None:
                schema = ref(op.response)
                if op.many:
                    schema = {"type": "array", "items": schema}
                entry["responses"][str(op.status)] = {
                    "description": "Success",
                    "content": {op.produces: {"schema": schema}},
                }
            else:
                entry["responses"][str(op.status)] = {"description": "Success"}
            error = {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            }
            standard = {
                400: "Invalid input; `field` names the part to fix",
                401: "Not signed in, or the API token sent is not valid",
            }
            if op.body is not None or op.consumes is not None:
                standard[413] = "The request body is too large"
            if any(p.where == "query" for p in op.params):
                # The server's request-line limit, met by long text sent percent-encoded.
                standard[414] = "The URL is too long"
            if op.auth:
                standard |= {
                    403: "Not allowed, or CSRF token missing",
                    404: "Not found, or not visible to you",
                }
            for code, text in (standard | op.responses).items():
                entry["responses"][str(code)] = {"description": text, **error}
            if op.auth:
                entry["security"] = [{"session": []}, {"bearer": []}]
            paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Loupe API",
            "version": "1",
            "description": (
                "Video coaching for teachers. Authenticate with the session cookie from "
                "POST /api/auth/login (then send its csrf_token as X-CSRF-Token on writes) "
                "or with a personal token: Authorization: Bearer loupe_…"
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "loupe_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong, for people"},
            "field": {"type": ["string", "null"], "description": "The input at fault"},
        },
    }


bp = Blueprint("api", __name__, url_prefix="/api")


Json = tuple[Any, int] | Any


@bp.get("/openapi.json")
def openapi() -> Json:
    """Serve the OpenAPI document generated from the registered operations."""
    return jsonify(build_document(current_app))
