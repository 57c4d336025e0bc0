"""Frameworks over JSON: list, read, create, edit, publish, import, export."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from app.accounts.security import signed_in_user
from app.core.openapi import operation
from app.frameworks import service as frameworks
from app.frameworks.models import Framework
from app.frameworks.schemas import FrameworkOut, FrameworkSpec

bp = Blueprint("frameworks", __name__, url_prefix="/api/frameworks")
Json = tuple[Any, int] | Any


def _out(framework: Framework, status: int = 200) -> Json:
    return jsonify(FrameworkOut.of(framework).model_dump()), status


@operation(
    bp,
    "",
    "GET",
    summary="The district's frameworks with dimensions and levels",
    response=FrameworkOut,
    many=True,
)
def list_frameworks() -> Json:
    everything = request.args.get("include") == "superseded"
    found = frameworks.list_frameworks(signed_in_user(), include_superseded=everything)
    return jsonify([FrameworkOut.of(f).model_dump() for f in found])


@operation(bp, "/<int:framework_id>", "GET", summary="One framework version", response=FrameworkOut)
def get_framework(framework_id: int) -> Json:
    return _out(frameworks.get_framework(signed_in_user(), framework_id))


@operation(
    bp,
    "",
    "POST",
    summary="Create a framework (a draft; ?publish=1 to publish at once)",
    body=FrameworkSpec,
    response=FrameworkOut,
    status=201,
)
def create_framework(body: FrameworkSpec) -> Json:
    framework = frameworks.create_framework(
        signed_in_user(), body, publish=request.args.get("publish") == "1"
    )
    return _out(framework, 201)


@operation(
    bp,
    "/import",
    "POST",
    summary="Import a framework from its JSON export (as a draft)",
    body=FrameworkSpec,
    response=FrameworkOut,
    status=201,
)
def import_framework(body: FrameworkSpec) -> Json:
    return _out(frameworks.create_framework(signed_in_user(), body), 201)


@operation(
    bp,
    "/<int:framework_id>",
    "PUT",
    summary="Edit: a draft changes in place; a published framework gets a new published "
    "version (feedback keeps the old one)",
    body=FrameworkSpec,
    response=FrameworkOut,
    responses={409: "An old, superseded version"},
)
def update_framework(framework_id: int, body: FrameworkSpec) -> Json:
    return _out(frameworks.update_framework(signed_in_user(), framework_id, body))


@operation(
    bp,
    "/<int:framework_id>/publish",
    "POST",
    summary="Publish a draft",
    response=FrameworkOut,
    responses={409: "Not a draft"},
)
def publish_framework(framework_id: int) -> Json:
    return _out(frameworks.publish(signed_in_user(), framework_id))


@operation(
    bp,
    "/<int:framework_id>/export",
    "GET",
    summary="The framework as JSON for import elsewhere",
    response=FrameworkSpec,
)
def export_framework(framework_id: int) -> Json:
    framework = frameworks.get_framework(signed_in_user(), framework_id)
    response = jsonify(frameworks.export_spec(framework))
    slug = (
        "".join(c if c.isalnum() else "-" for c in framework.name.lower()).strip("-") or "framework"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{slug}-v{framework.version}.json"'
    )
    return response
