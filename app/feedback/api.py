"""Annotations and replies over JSON; exports of a video's feedback."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.accounts.security import large_body, signed_in_user
from app.core.errors import NotFound
from app.core.numbers import BIG_MAX, parse_whole
from app.core.openapi import Param, operation
from app.feedback import documents, exports, replies
from app.feedback import service as feedback
from app.feedback.schemas import (
    AnnotationIn,
    AnnotationOut,
    AnnotationPage,
    AnnotationPatch,
    AnnotationsDocument,
    CsvExport,
    ImportOut,
    ReplyIn,
    VttExport,
)
from app.frameworks.schemas import FrameworkOut
from app.lessons import service as videos

bp = Blueprint("annotations", __name__, url_prefix="/api")
Json = tuple[Any, int] | Any


def _int_arg(name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return parse_whole(raw, field=name, minimum=minimum, maximum=maximum)


def _out(annotation: Any, status: int = 200) -> Json:
    return jsonify(AnnotationOut.of(annotation).model_dump(mode="json")), status


@operation(
    bp,
    "/videos/<int:video_id>/annotations",
    "GET",
    summary="A video's annotations you may see, oldest change first. Page with `limit` "
    "(≤ 1000) and `since` (the last cursor); a client catching up after a reconnect sends "
    "its cursor and gets only what changed, with `removed` ids",
    response=AnnotationPage,
    params=(
        Param(
            "since",
            "query",
            {"type": "integer", "minimum": 0, "maximum": BIG_MAX},
            "The cursor of the last page; 0 or absent for everything",
        ),
        Param(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": feedback.MAX_PAGE},
            f"At most this many annotations (default {feedback.PAGE})",
        ),
    ),
)
def list_annotations(video_id: int) -> Json:
    page = feedback.list_annotations(
        signed_in_user(),
        video_id,
        since=_int_arg("since", 0, minimum=0, maximum=BIG_MAX),
        limit=_int_arg("limit", feedback.PAGE, minimum=1, maximum=feedback.MAX_PAGE),
    )
    return jsonify(page.model_dump(mode="json"))


@operation(
    bp,
    "/videos/<int:video_id>/annotations",
    "POST",
    summary="Annotate a moment (start_ms) or a range (start_ms to end_ms); needs comment access",
    body=AnnotationIn,
    response=AnnotationOut,
    status=201,
)
def create_annotation(video_id: int, body: AnnotationIn) -> Json:
    return _out(feedback.create_annotation(signed_in_user(), video_id, body), 201)


@operation(
    bp,
    "/videos/<int:video_id>/framework",
    "GET",
    summary="The framework this video's feedback uses (the video's, your caseload's, or the "
    "district's instructional framework)",
    response=FrameworkOut,
)
def video_framework(video_id: int) -> Json:
    user = signed_in_user()
    framework = feedback.framework_for(videos.get_video(user, video_id), user)
    if framework is None:
        raise NotFound("The district has no published framework.")
    return jsonify(FrameworkOut.of(framework).model_dump())


@operation(
    bp, "/annotations/<int:annotation_id>", "GET", summary="One annotation", response=AnnotationOut
)
def get_annotation(annotation_id: int) -> Json:
    return _out(feedback.get_annotation(signed_in_user(), annotation_id))


@operation(
    bp,
    "/annotations/<int:annotation_id>",
    "PATCH",
    summary="Edit your annotation: only the fields sent change; null clears end_ms or the tag",
    body=AnnotationPatch,
    response=AnnotationOut,
)
def update_annotation(annotation_id: int, body: AnnotationPatch) -> Json:
    return _out(feedback.update_annotation(signed_in_user(), annotation_id, body))


@operation(
    bp,
    "/annotations/<int:annotation_id>",
    "DELETE",
    summary="Delete your annotation and its replies",
    status=204,
)
def delete_annotation(annotation_id: int) -> Json:
    feedback.delete_annotation(signed_in_user(), annotation_id)
    return "", 204


@operation(
    bp,
    "/annotations/<int:annotation_id>/replies",
    "POST",
    summary="Reply to an annotation; answers with the whole thread",
    body=ReplyIn,
    response=AnnotationOut,
    status=201,
)
def add_reply(annotation_id: int, body: ReplyIn) -> Json:
    return _out(replies.add_reply(signed_in_user(), annotation_id, body), 201)


@operation(
    bp,
    "/annotations/<int:annotation_id>/replies/<int:reply_id>",
    "PATCH",
    summary="Edit your reply; answers with the whole thread",
    body=ReplyIn,
    response=AnnotationOut,
)
def update_reply(annotation_id: int, reply_id: int, body: ReplyIn) -> Json:
    return _out(replies.update_reply(signed_in_user(), annotation_id, reply_id, body))


@operation(
    bp,
    "/annotations/<int:annotation_id>/replies/<int:reply_id>",
    "DELETE",
    summary="Delete your reply; answers with the whole thread",
    response=AnnotationOut,
)
def delete_reply(annotation_id: int, reply_id: int) -> Json:
    return _out(replies.delete_reply(signed_in_user(), annotation_id, reply_id))


# --- exports and import of a video's feedback ------------------------------------------------


def _attachment(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _file(export: exports.ExportFile) -> Response:
    return _attachment(
        Response(export.text.encode("utf-8"), mimetype=export.mimetype), export.filename
    )


@operation(
    bp,
    "/videos/<int:video_id>/annotations.csv",
    "GET",
    summary="Download the feedback you see on a video as CSV (one row per annotation, "
    "replies joined in one cell)",
    response=CsvExport,
    produces="text/csv",
)
def export_annotations_csv(video_id: int) -> Response:
    return _file(exports.export_csv(signed_in_user(), video_id))


@operation(
    bp,
    "/videos/<int:video_id>/annotations.json",
    "GET",
    summary="Download the feedback you see on a video as a lossless, versioned document "
    "that POST …/annotations/import reads back",
    response=AnnotationsDocument,
)
def export_annotations_json(video_id: int) -> Response:
    document, filename = documents.export_document(signed_in_user(), video_id)
    # Serialised by pydantic, not jsonify, so the keys keep the document's order (format and
    # version first) for people who open the file.
    text = document.model_dump_json(indent=2)
    return _attachment(Response(text, mimetype="application/json"), filename)


@operation(
    bp,
    "/videos/<int:video_id>/annotations.vtt",
    "GET",
    summary="Download the feedback you see on a video as a WebVTT metadata track",
    response=VttExport,
    produces="text/vtt",
)
def export_annotations_vtt(video_id: int) -> Response:
    return _file(exports.export_vtt(signed_in_user(), video_id))


@operation(
    bp,
    "/videos/<int:video_id>/annotations/import",
    "POST",
    summary="Import an annotations document (from …/annotations.json) into a video you may "
    "comment on: all of it or, on any error, none of it; you become the author and others' "
    "feedback keeps their names",
    body=AnnotationsDocument,
    response=ImportOut,
    status=201,
    responses={413: "The document is larger than 32 MiB"},
)
@large_body(32 * 1024 * 1024)
def import_annotations(video_id: int, body: AnnotationsDocument) -> Json:
    made = documents.import_annotations(signed_in_user(), video_id, body)
    out = ImportOut(imported=len(made), annotations=[AnnotationOut.of(a) for a in made])
    return jsonify(out.model_dump(mode="json")), 201
