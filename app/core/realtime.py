"""Socket.IO: room names, the one publish() helper and the closing of rooms when access shrinks.

A lesson has no shared room: each person watching it has their own room of it
(`video:<id>:user:<uid>`), and an event for the lesson goes to the rooms of its current
audience (app.policy), so someone whose access ended gets nothing more even before they are
taken out. Taking someone out is closing their room, which every web process applies (see
queue.py: their sockets leave every room of that lesson).
"""

from __future__ import annotations

from typing import Any

from app.core import access, policy
from app.core.extensions import db, socketio
from app.lessons.models import Video

NAMESPACE = "/"


def user_room(user_id: int) -> str:
    """Return the room every socket of one user joins."""
    return f"user:{user_id}"


def lesson_room(video_id: int, user_id: int) -> str:
    """Return one person's room of a lesson: every socket of theirs watching it joins it."""
    return f"video:{video_id}:user:{user_id}"


def socket_room(video_id: int, sid: str) -> str:
    """Return one socket's room of a lesson: the address of relays meant for that socket only."""
    return f"video:{video_id}:sid:{sid}"


def person_of(room: str) -> tuple[str, int] | None:
    """Return (the thing's prefix, e.g. "video:5:", user id) of a person's room, else None."""
    parts = room.split(":")
    if len(parts) == 4 and parts[2] == "user" and parts[1].isdigit() and parts[3].isdigit():
        return f"{parts[0]}:{parts[1]}:", int(parts[3])
    return None


def lesson_rooms(video: Video) -> list[str]:
    """Return the rooms of everyone who may watch the lesson now (one query)."""
    return [lesson_room(video.id, uid) for uid in policy.video_audience(video)]


def publish(event: str, data: dict[str, Any], *, room: str | list[str]) -> None:
    """Send an event to the browsers in a room (or rooms) from any process, via the queue.

    Given several rooms, a socket in more than one of them still gets the event once; given
    none, nobody gets it (an empty list would otherwise mean everyone).
    """
    if not room:
        return
    socketio.emit(event, data, to=room, namespace=NAMESPACE)


def publish_to_lesson(event: str, data: dict[str, Any], video: Video) -> None:
    """Send an event to the people watching a lesson who may still watch it."""
    rooms = lesson_rooms(video)
    if rooms:
        publish(event, data, room=rooms)


@access.closes_channels("lesson rooms")
def close_lesson_rooms(video_ids: frozenset[int], user_ids: frozenset[int]) -> None:
    """Take people out of the rooms of lessons they may no longer watch; tell the others."""
    for video_id in sorted(video_ids):
        video = db.session.get(Video, video_id)
        allowed = set(policy.video_audience(video)) if video is not None else set()
        gone = sorted(user_ids - allowed)
        for user_id in gone:
            socketio.close_room(lesson_room(video_id, user_id), namespace=NAMESPACE)
        if video is not None and gone:
            for user_id in gone:
                # Their sockets are unknown here (they may be in another process): the
                # others drop every face of that person.
                publish_to_lesson(
                    "presence.left", {"video_id": video_id, "user_id": user_id}, video
                )
