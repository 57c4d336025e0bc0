"""JSON endpoints of lessons: list, read, change, delete, reprocess and share videos. Thin:
parse, call a service, serialise (on core's shared `api` blueprint).
"""

from __future__ import annotations

from flask import jsonify

from app.accounts.security import signed_in_user
from app.core.openapi import Json, bp, operation
from app.lessons import processing
from app.lessons import service as videos
from app.lessons.schemas import ShareIn, ShareOut, VideoOut, VideoPatch


@operation(
    bp,
    "/videos",
    "GET",
    summary="The videos you may see, newest first",
    response=VideoOut,
    many=True,
)
def list_videos() -> Json:
    user = signed_in_user()
    return jsonify([VideoOut.of(v, user).model_dump(mode="json") for v in videos.list_videos(user)])


@operation(bp, "/videos/<int:video_id>", "GET", summary="One video", response=VideoOut)
def get_video(video_id: int) -> Json:
    user = signed_in_user()
    video = videos.view_video(user, video_id)
    return jsonify(VideoOut.of(video, user).model_dump(mode="json"))


@operation(
    bp,
    "/videos/<int:video_id>",
    "PATCH",
    summary="Change a lesson's title, subject, grade, date or framework (owner only)",
    body=VideoPatch,
    response=VideoOut,
)
def update_video(video_id: int, body: VideoPatch) -> Json:
    user = signed_in_user()
    video = videos.update_video(user, video_id, body.model_dump(include=body.model_fields_set))
    return jsonify(VideoOut.of(video, user).model_dump(mode="json"))


@operation(
    bp,
    "/videos/<int:video_id>",
    "DELETE",
    summary="Delete a video and all its files (owner only)",
    status=204,
)
def delete_video(video_id: int) -> Json:
    videos.delete_video(signed_in_user(), video_id)
    return "", 204


@operation(
    bp,
    "/videos/<int:video_id>/process",
    "POST",
    summary="Process the original upload again (owner only; the retry of a failed video)",
    response=VideoOut,
    status=202,
    responses={409: "Already processing, or the original upload is gone"},
)
def reprocess_video(video_id: int) -> Json:
    user = signed_in_user()
    video = processing.request_processing(user, video_id)
    return jsonify(VideoOut.of(video, user).model_dump(mode="json")), 202


@operation(
    bp,
    "/videos/<int:video_id>/shares",
    "GET",
    summary="Who the video is shared with (owner only)",
    response=ShareOut,
    many=True,
)
def list_shares(video_id: int) -> Json:
    shares = videos.active_shares(signed_in_user(), video_id)
    return jsonify([ShareOut.of(s).model_dump(mode="json") for s in shares])


@operation(
    bp,
    "/videos/<int:video_id>/shares",
    "POST",
    summary="Share with a coach or teacher of your district",
    body=ShareIn,
    response=ShareOut,
    status=201,
)
def create_share(video_id: int, body: ShareIn) -> Json:
    share = videos.share_video(signed_in_user(), video_id, body.email, body.permission)
    return jsonify(ShareOut.of(share).model_dump(mode="json")), 201


@operation(
    bp,
    "/videos/<int:video_id>/shares/<int:share_id>",
    "DELETE",
    summary="Revoke a share at once",
    status=204,
)
def revoke_share(video_id: int, share_id: int) -> Json:
    videos.revoke_share(signed_in_user(), video_id, share_id)
    return "", 204
