"""The tus 1.0 resumable upload protocol at /api/uploads/ (thin: parse headers, call the service).

Extensions: creation, creation-with-upload, termination, checksum (sha1, md5, sha256) and
expiration. https://tus.io/protocols/resumable-upload
"""

from __future__ import annotations

import base64
import binascii
import re
from email.utils import format_datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from app.accounts.security import signed_in_user, streams_body
from app.core.errors import Invalid, NotFound
from app.core.numbers import BIG_MAX, parse_whole
from app.core.openapi import Param, operation
from app.lessons import uploads
from app.lessons.models import Upload
from app.lessons.schemas import UploadStatusOut

bp = Blueprint("uploads", __name__, url_prefix="/api/uploads")

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
OCTETS = "application/offset+octet-stream"
ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Every tus request but OPTIONS (and the JSON status GET) names the protocol version.
TUS_RESUMABLE = Param(
    "Tus-Resumable", "header", {"type": "string", "enum": [TUS_VERSION]}, "The tus version", True
)
TUS_REFUSED = {412: f"Tus-Resumable is missing or not {TUS_VERSION}"}
BYTES = {"type": "integer", "minimum": 0, "maximum": BIG_MAX}


@bp.before_request
def _require_tus_version() -> Response | None:
    if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != TUS_VERSION:
        if request.method == "GET":
            return None  # the JSON status endpoint is not part of the protocol
        response = jsonify(error=f"Send Tus-Resumable: {TUS_VERSION}.", field="Tus-Resumable")
        response.status_code = 412
        response.headers["Tus-Version"] = TUS_VERSION
        return response
    return None


@bp.after_request
def _tus_headers(response: Response) -> Response:
    response.headers["Tus-Resumable"] = TUS_VERSION
    return response


def _number(header: str) -> int | None:
    raw = request.headers.get(header)
    return None if raw is None else parse_whole(raw, field=header, maximum=BIG_MAX)


def _checksum() -> tuple[str, bytes] | None:
    raw = request.headers.get("Upload-Checksum")
    if raw is None:
        return None
    algorithm, _, encoded = raw.strip().partition(" ")
    if algorithm not in uploads.CHECKSUMS:
        raise Invalid(
            f"Checksum algorithm {algorithm!r} is not supported.", field="Upload-Checksum"
        )
    try:
        return algorithm, base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise Invalid(
            "Upload-Checksum must be '<algorithm> <base64 digest>'.", field="Upload-Checksum"
        ) from exc


def _body_stream() -> Any:
    return request.stream  # capped at the upload limit by @streams_body, not the 1 MiB default


def _state_headers(upload: Upload, response: Response) -> Response:
    response.headers["Upload-Offset"] = str(upload.offset)
    response.headers["Upload-Expires"] = format_datetime(upload.expires_at, usegmt=True)
    response.headers["Cache-Control"] = "no-store"
    if upload.video_id is not None:
        response.headers["Loupe-Video-Id"] = str(upload.video_id)
    return response


def _valid_id(upload_id: str) -> str:
    if not ID.match(upload_id):
        raise NotFound("No such upload.")
    return upload_id


@operation(
    bp,
    "/",
    "OPTIONS",
    summary="tus discovery: version, extensions, maximum size",
    auth=False,
    status=204,
)
def discover() -> Response:
    response = Response(status=204)
    response.headers["Tus-Version"] = TUS_VERSION
    response.headers["Tus-Extension"] = EXTENSIONS
    response.headers["Tus-Max-Size"] = str(current_app.config["UPLOAD_MAX_BYTES"])
    response.headers["Tus-Checksum-Algorithm"] = ",".join(uploads.CHECKSUMS)
    return response


@operation(
    bp,
    "/",
    "POST",
    summary="tus creation (and creation-with-upload): Upload-Length, Upload-Metadata "
    "(filename, title, subject, grade, recorded_at)",
    status=201,
    responses={
        413: "Too large, or over your storage quota",
        460: "The body's checksum did not match; the upload starts empty",
        507: "The server is out of storage space; the upload keeps what it had stored",
        **TUS_REFUSED,
    },
    params=(
        TUS_RESUMABLE,
        Param("Upload-Length", "header", BYTES, "The file's size in bytes", True),
        Param(
            "Upload-Metadata",
            "header",
            {"type": "string", "maxLength": 4096},
            "Comma-separated `key base64(value)` pairs",
        ),
    ),
)
@streams_body
def create() -> Response:
    user = signed_in_user()
    upload = uploads.create_upload(
        user, _number("Upload-Length"), request.headers.get("Upload-Metadata")
    )
    if request.content_type == OCTETS and request.content_length != 0:
        upload = uploads.append(user, upload.id, 0, _body_stream(), _checksum())
    response = _state_headers(upload, Response(status=201))
    response.headers["Location"] = url_for("uploads.status", upload_id=upload.id, _external=True)
    return response


@operation(
    bp,
    "/<upload_id>",
    "HEAD",
    summary="tus: how many bytes the server has",
    status=200,
    responses={410: "The upload expired", **TUS_REFUSED},
    params=(TUS_RESUMABLE,),
)
def offset(upload_id: str) -> Response:
    upload = uploads.get_upload(signed_in_user(), _valid_id(upload_id))
    response = _state_headers(upload, Response(status=200))
    response.headers["Upload-Length"] = str(upload.length)
    if upload.raw_metadata:
        response.headers["Upload-Metadata"] = upload.raw_metadata
    return response


@operation(
    bp,
    "/<upload_id>",
    "PATCH",
    summary="tus: append bytes at Upload-Offset (optionally with Upload-Checksum); the last "
    "byte creates the lesson, named in the Loupe-Video-Id header",
    status=204,
    responses={
        409: "Upload-Offset does not match",
        410: "The upload expired",
        413: "More bytes than the upload's length",
        415: "Content-Type must be application/offset+octet-stream",
        423: "Another request is writing this upload",
        460: "Checksum mismatch; the chunk was discarded",
        507: "The server is out of storage space; the offset stays at the last stored byte",
        **TUS_REFUSED,
    },
    params=(
        TUS_RESUMABLE,
        Param("Upload-Offset", "header", BYTES, "Where these bytes go: the upload's offset", True),
        Param(
            "Upload-Checksum",
            "header",
            {"type": "string"},
            "`<algorithm> <base64 digest>` of this request's bytes (sha1, md5 or sha256)",
        ),
    ),
)
@streams_body
def append(upload_id: str) -> Response | tuple[Response, int]:
    if request.content_type != OCTETS:
        return jsonify(error=f"Content-Type must be {OCTETS}.", field="Content-Type"), 415
    checksum = _checksum()
    upload = uploads.append(
        signed_in_user(),
        _valid_id(upload_id),
        _number("Upload-Offset"),
        _body_stream(),
        checksum,
    )
    return _state_headers(upload, Response(status=204))


@operation(
    bp,
    "/<upload_id>",
    "DELETE",
    summary="tus termination: cancel the upload and delete its bytes",
    status=204,
    responses={409: "The upload is complete", 423: "Another request is writing this upload"}
    | TUS_REFUSED,
    params=(TUS_RESUMABLE,),
)
def terminate(upload_id: str) -> Response:
    uploads.terminate(signed_in_user(), _valid_id(upload_id))
    return Response(status=204)


@operation(
    bp,
    "/<upload_id>",
    "GET",
    summary="An upload's progress as JSON",
    response=UploadStatusOut,
    responses={410: "The upload expired"},
)
def status(upload_id: str) -> Response:
    upload = uploads.get_upload(signed_in_user(), _valid_id(upload_id))
    body = UploadStatusOut(
        id=upload.id,
        length=upload.length,
        offset=upload.offset,
        video_id=upload.video_id,
        expires_at=upload.expires_at.isoformat(),
    )
    return jsonify(body.model_dump())
