"""Serve a video's playback files after a policy check, with range requests."""

from __future__ import annotations

from pathlib import PurePosixPath

from flask import Blueprint, request, send_file
from flask_login import current_user
from werkzeug.exceptions import NotFound, Unauthorized
from werkzeug.wrappers import Response

from app.accounts.security import signed_in_user
from app.core.policy import VideoAction
from app.core.storage import storage
from app.lessons import service as videos

bp = Blueprint("media", __name__, url_prefix="/media")

SERVED_SUFFIXES = frozenset({".m3u8", ".m4s", ".ts", ".mp4", ".vtt", ".jpg", ".json"})


@bp.get("/<int:video_id>/<path:path>")
def media(video_id: int, path: str) -> Response:
    """Return one processed file of a video the caller may watch."""
    if not current_user.is_authenticated:
        raise Unauthorized("Sign in to watch lesson videos.")
    if PurePosixPath(path).suffix.lower() not in SERVED_SUFFIXES:
        raise NotFound("No such file.")
    download = request.args.get("download") == "1"
    user = signed_in_user()
    video = videos.get_video(user, video_id, VideoAction.DOWNLOAD if download else VideoAction.VIEW)
    file = storage().resolve(video.id, path)
    if file is None:
        raise NotFound("No such file.")
    if download:
        videos.record_download(user, video, path)
    response = send_file(
        file,
        conditional=True,
        as_attachment=download,
        download_name=f"lesson-{video.id}{file.suffix}" if download else None,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
