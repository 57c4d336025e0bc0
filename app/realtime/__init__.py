"""Socket.IO: the connection handler, room joins and the one publish() helper."""

from __future__ import annotations

from typing import Any

from app.extensions import socketio

NAMESPACE = "/"


def user_room(user_id: int) -> str:
    """Return the room every socket of one user joins."""
    return f"user:{user_id}"


def video_room(video_id: int) -> str:
    """Return the room of the people watching one video."""
    return f"video:{video_id}"


def publish(event: str, data: dict[str, Any], *, room: str | list[str]) -> None:
    """Send an event to the browsers in a room (or rooms) from any process, via the queue.

    Given several rooms, a socket in more than one of them still gets the event once.
    """
    socketio.emit(event, data, to=room, namespace=NAMESPACE)
