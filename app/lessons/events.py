"""Socket.IO handlers: authenticate the connection, join the video rooms policy allows, presence."""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room, rooms

from app.accounts.security import signed_in_user
from app.core import audit
from app.core.errors import ServiceError
from app.core.extensions import db, socketio
from app.core.numbers import ID_MAX
from app.core.realtime import NAMESPACE, lesson_room, socket_room, user_room
from app.debriefs import events as debrief
from app.lessons import service as videos
from app.lessons.models import Video
from app.lessons.rooms import lesson_rooms, publish_to_lesson

log = logging.getLogger("loupe.realtime")
_registered = False


def _video_id(data: Any) -> int | None:
    if not isinstance(data, dict):
        return None
    raw = data.get("video_id")
    if not isinstance(raw, int) or isinstance(raw, bool):
        return None
    return raw if 0 < raw <= ID_MAX else None


def on_connect(auth: Any = None) -> None:
    """Accept only signed-in people (engine.io has already refused foreign origins)."""
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("Sign in first.")
    join_room(user_room(current_user.id))


def on_video_join(data: Any) -> dict[str, Any]:
    """Join the room of a video the user may watch."""
    video_id = _video_id(data)
    if video_id is None:
        return {"ok": False, "error": "Send {video_id: <positive integer>}."}
    audit.set_client_address(request.remote_addr)
    try:
        video = videos.get_video(signed_in_user(), video_id)
    except ServiceError as exc:
        return {"ok": False, "error": exc.message}
    join_room(lesson_room(video_id, signed_in_user().id))
    join_room(socket_room(video_id, _sid()))
    # Presence without shared state: the others answer with presence.here, relayed to us.
    socketio.emit(
        "presence.joined",
        {"video_id": video_id, "sid": _sid(), "user": _me()},
        to=lesson_rooms(video),
        skip_sid=_sid(),
        namespace=NAMESPACE,
    )
    return {"ok": True}


def _watching(video_id: int) -> bool:
    return socket_room(video_id, _sid()) in rooms()


def _sid() -> str:
    sid: str = request.sid  # type: ignore[attr-defined]
    return sid


def _me() -> dict[str, Any]:
    user = signed_in_user()
    return {"id": user.id, "name": user.name, "role": user.role.value}


def _watcher(video_id: int, sid: str) -> bool | None:
    """Answer whether a socket watches the lesson; None when it is held by another process."""
    manager = socketio.server.manager
    if not manager.is_connected(sid, NAMESPACE):
        return None
    return socket_room(video_id, sid) in manager.get_rooms(sid, NAMESPACE)


def on_presence_here(data: Any) -> dict[str, Any]:
    """Tell one newcomer in the room that we are watching too."""
    video_id = _video_id(data)
    to = data.get("to") if isinstance(data, dict) else None
    if (
        video_id is None
        or not isinstance(to, str)
        or not 0 < len(to) <= 64  # a socket id, nothing longer
        or not _watching(video_id)
    ):
        return {"ok": False, "error": "Join the video first, then send {video_id, to}."}
    if _watcher(video_id, to) is False:
        debrief.DROPPED["presence-here-stranger"] += 1
        log.warning("dropped presence.here from %s to %s: not watching %s", _sid(), to, video_id)
        return {"ok": False, "error": "That socket is not watching this lesson."}
    # The relay carries only our own name, to the one socket that announced itself, through
    # that socket's room of the lesson: a socket elsewhere gets it only while it watches too.
    emit(
        "presence.here",
        {"video_id": video_id, "sid": _sid(), "user": _me()},
        to=socket_room(video_id, to),
    )
    return {"ok": True}


def _left(video_id: int) -> None:
    video = db.session.get(Video, video_id)
    if video is not None:
        publish_to_lesson("presence.left", {"video_id": video_id, "sid": _sid()}, video)


def on_video_leave(data: Any) -> dict[str, Any]:
    """Leave a video's room."""
    video_id = _video_id(data)
    if video_id is None:
        return {"ok": False, "error": "Send {video_id: <positive integer>}."}
    if _watching(video_id):
        leave_room(socket_room(video_id, _sid()))
        leave_room(lesson_room(video_id, signed_in_user().id))
        _left(video_id)
    return {"ok": True}


def on_disconnect(reason: Any = None) -> None:
    """Tell the video and debrief rooms this socket was in that it left."""
    joined = list(rooms())
    for room in joined:
        parts = room.split(":")
        if len(parts) == 4 and parts[0] == "video" and parts[2] == "sid":
            _left(int(parts[1]))
    debrief.on_disconnect_rooms(joined)


def on_error(exc: Exception) -> dict[str, Any]:
    """Answer a failing handler with an error instead of dropping the connection."""
    log.exception("socket handler failed: %s", exc)
    return {"ok": False, "error": "The server could not handle this message."}


def register() -> None:
    """Attach the handlers to the Socket.IO server (once per process)."""
    global _registered
    if _registered:
        return
    socketio.on("connect", namespace=NAMESPACE)(on_connect)
    socketio.on("video.join", namespace=NAMESPACE)(on_video_join)
    socketio.on("video.leave", namespace=NAMESPACE)(on_video_leave)
    socketio.on("presence.here", namespace=NAMESPACE)(on_presence_here)
    socketio.on("disconnect", namespace=NAMESPACE)(on_disconnect)
    for event, handler in debrief.HANDLERS.items():
        socketio.on(event, namespace=NAMESPACE)(handler)
    socketio.on_error(NAMESPACE)(on_error)
    _registered = True
