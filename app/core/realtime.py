"""Socket.IO: room names and the one publish() helper (handlers: lessons/events.py).

A lesson has no shared room: each person watching it has their own room of it
(`video:<id>:user:<uid>`), and an event for the lesson goes to the rooms of its current
audience (app/lessons/rooms.py), so someone whose access ended gets nothing more even before
they are taken out. Taking someone out is closing their room, which every web process applies
(see socket_queue.py: their sockets leave every room of that lesson).
"""

from __future__ import annotations

from typing import Any

from app.core.extensions import socketio

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


def publish(event: str, data: dict[str, Any], *, room: str | list[str]) -> None:
    """Send an event to the browsers in a room (or rooms) from any process, via the queue.

    Given several rooms, a socket in more than one of them still gets the event once; given
    none, nobody gets it (an empty list would otherwise mean everyone).
    """
    if not room:
        return
    socketio.emit(event, data, to=room, namespace=NAMESPACE)
