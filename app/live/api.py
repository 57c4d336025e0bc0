"""Live lessons over HTTP: WHIP to stream (RFC 9725), WHEP to watch, and the list of streams.

WHIP and WHEP exchange raw SDP (`application/sdp`); any WHIP client (OBS Studio, GStreamer,
a browser) streams with `Authorization: Bearer <personal API token>`, lesson details as query
parameters (`?title=…&subject=…&grade=…`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from app.accounts.security import signed_in_user
from app.core.errors import Invalid
from app.core.openapi import Param, operation
from app.live import service as live
from app.live.schemas import LiveOut

bp = Blueprint("live", __name__, url_prefix="/api/live")
Json = tuple[Any, int] | Any


def _sdp_body() -> str:
    if request.mimetype != "application/sdp":
        raise Invalid("Send the SDP offer with Content-Type: application/sdp.", field="body")
    return request.get_data(as_text=True)


def _sdp_answer(answer: dict[str, Any], location: str) -> Response:
    response = Response(answer["sdp"], status=201, mimetype="application/sdp")
    response.headers["Location"] = location
    return response


def _query(name: str, limit: int) -> str | None:
    value = request.args.get(name, "").strip()
    if len(value) > limit:
        raise Invalid(f"{name} is at most {limit} characters.", field=name)
    return value or None


@operation(
    bp,
    "/whip",
    "POST",
    summary="Go live (WHIP): an SDP offer in, the answer out with a Location to DELETE when "
    "done. A teacher whose stream dropped resumes the same lesson by posting again within "
    "the grace period. Query: title, subject, grade",
    consumes="application/sdp",
    produces="application/sdp",
    status=201,
    responses={409: "This lesson is already being streamed", 503: "The gateway is not running"},
    params=tuple(
        Param(name, "query", {"type": "string", "maxLength": limit}, f"The lesson's {name}")
        for name, limit in (("title", 200), ("subject", 100), ("grade", 20))
    ),
)
def whip() -> Response:
    stream, answer = live.start(
        signed_in_user(),
        _sdp_body(),
        title=_query("title", 200),
        subject=_query("subject", 100),
        grade=_query("grade", 20),
    )
    response = _sdp_answer(answer, url_for("live.whip_end", key=stream.resource_key))
    response.headers["Loupe-Video-Id"] = str(stream.video_id)
    response.headers["Loupe-Stream-Id"] = str(stream.id)
    return response


@operation(
    bp,
    "/whip/<key>",
    "DELETE",
    summary="End the live lesson (WHIP): its recording becomes the lesson video",
    status=200,
    response=LiveOut,
)
def whip_end(key: str) -> Json:
    return jsonify(live.serialise(live.end(signed_in_user(), key)))


@operation(
    bp,
    "/<int:stream_id>/whep",
    "POST",
    summary="Watch a live lesson (WHEP): an SDP offer in, the answer out with a Location to "
    "DELETE when done",
    consumes="application/sdp",
    produces="application/sdp",
    status=201,
    responses={409: "Not live right now"},
)
def whep(stream_id: int) -> Response:
    answer = live.watch(signed_in_user(), stream_id, _sdp_body())
    return _sdp_answer(
        answer, url_for("live.whep_end", stream_id=stream_id, session=answer["session"])
    )


@operation(
    bp,
    "/<int:stream_id>/whep/<session>",
    "DELETE",
    summary="Stop watching",
    status=204,
)
def whep_end(stream_id: int, session: str) -> Json:
    live.stop_watching(signed_in_user(), stream_id, session)
    return "", 204


@operation(bp, "", "GET", summary="Live lessons you may watch now", response=LiveOut, many=True)
def list_live() -> Json:
    return jsonify([live.serialise(s) for s in live.visible_streams(signed_in_user())])


@operation(bp, "/<int:stream_id>", "GET", summary="One live lesson", response=LiveOut)
def get_live(stream_id: int) -> Json:
    return jsonify(live.serialise(live.watchable(signed_in_user(), stream_id)))
