"""Who is watching a lesson: each person's room of it, events to those who may still watch, and
closing the rooms of people whose access ended (a closer of core's access). May use core.
"""

from __future__ import annotations

from typing import Any

from app.core import access, policy
from app.core.extensions import db, socketio
from app.core.realtime import NAMESPACE, lesson_room, publish
from app.lessons.models import Video


def lesson_rooms(video: Video) -> list[str]:
    """Return the rooms of everyone who may watch the lesson now (one query)."""
    return [lesson_room(video.id, uid) for uid in policy.video_audience(video)]


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
