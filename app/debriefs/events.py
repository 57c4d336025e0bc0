"""Socket.IO for debriefs: room entry, WebRTC signaling between members, the shared player.

Every message is validated; a bad or oversized one is dropped, counted and answered with an
error, never raised. Signals go only to one socket, and only from a member in the room to a
member in the same room, both still allowed to watch the lesson (by their open attendance,
which every process sees). Each member has their own room of a debrief, and events go to the
rooms of the members who may still be there (see services/debriefs.py).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from flask import request
from flask_socketio import join_room, leave_room, rooms
from pydantic import ValidationError

from app.accounts.security import signed_in_user
from app.core import audit
from app.core.errors import ServiceError
from app.core.extensions import db, socketio
from app.core.realtime import NAMESPACE
from app.debriefs import room
from app.debriefs import service as debriefs
from app.debriefs.models import Debrief
from app.debriefs.schemas import Here, Playback, RoomMessage, Signal, Strict
from app.debriefs.service import member_room

log = logging.getLogger("loupe.realtime.debrief")
# Dropped messages by reason, for the logs and for tests (per process).
DROPPED: Counter[str] = Counter()


def _sid() -> str:
    sid: str = request.sid  # type: ignore[attr-defined]
    return sid


def _parse(model: type[Strict], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        DROPPED[model.__name__] += 1
        log.warning("dropped a %s message from %s: %s", model.__name__, _sid(), exc.errors()[0])
        return None


def _dropped(why: str) -> dict[str, Any]:
    return {"ok": False, "error": why}


def _me() -> dict[str, Any]:
    user = signed_in_user()
    return {"id": user.id, "name": user.name, "role": user.role.value}


def _my_room(debrief_id: int) -> str:
    return member_room(debrief_id, signed_in_user().id)


def _in_room(debrief_id: int) -> bool:
    return _my_room(debrief_id) in rooms() and debriefs.member_socket(debrief_id, _sid())


def _to_members(event: str, data: dict[str, Any], debrief_id: int, *, skip_me: bool) -> None:
    debrief = db.session.get(Debrief, debrief_id)
    targets = debriefs.member_rooms(debrief) if debrief is not None else []
    if targets:
        socketio.emit(
            event, data, to=targets, skip_sid=_sid() if skip_me else None, namespace=NAMESPACE
        )


def _stranger(debrief_id: int, to: str, kind: str) -> bool:
    """Answer (and count) whether a relay names a socket that is not in the sender's room."""
    if debriefs.member_socket(debrief_id, to):
        return False
    DROPPED[f"{kind}-stranger"] += 1
    log.warning("dropped a %s from %s to %s: not in debrief %s", kind, _sid(), to, debrief_id)
    return True


def on_join(data: Any) -> dict[str, Any]:
    """Enter a debrief the user was invited to; the members already there are told."""
    message = _parse(RoomMessage, data)
    if message is None:
        return _dropped("Send {debrief_id: <positive integer>}.")
    audit.set_client_address(request.remote_addr)
    try:
        debrief = room.join(signed_in_user(), message.debrief_id, _sid())
    except ServiceError as exc:
        return _dropped(exc.message)
    join_room(_my_room(debrief.id))
    _to_members(
        "debrief.peer_joined",
        {"debrief_id": debrief.id, "sid": _sid(), "user": _me()},
        debrief.id,
        skip_me=True,
    )
    return {
        "ok": True,
        "sid": _sid(),
        "playback": debrief.playback,
        "server_time": time.time(),
    }


def on_here(data: Any) -> dict[str, Any]:
    """Answer a newcomer: tell that one socket we are here (it then waits for our offer)."""
    message = _parse(Here, data)
    if message is None or not _in_room(message.debrief_id):
        DROPPED["here-outside"] += message is not None
        return _dropped("Join the debrief first, then send {debrief_id, to}.")
    if _stranger(message.debrief_id, message.to, "here"):
        return _dropped("That socket is not in this debrief.")
    socketio.emit(
        "debrief.peer_here",
        {"debrief_id": message.debrief_id, "sid": _sid(), "user": _me()},
        to=message.to,
        namespace=NAMESPACE,
    )
    return {"ok": True}


def on_signal(data: Any) -> dict[str, Any]:
    """Relay an SDP description or ICE candidate to one member of the same debrief."""
    message = _parse(Signal, data)
    if message is None:
        return _dropped("A signal is {debrief_id, to, description | candidate}.")
    if not _in_room(message.debrief_id):
        DROPPED["signal-outside"] += 1
        return _dropped("Join the debrief first.")
    if _stranger(message.debrief_id, message.to, "signal"):
        return _dropped("That socket is not in this debrief.")
    payload: dict[str, Any] = {
        "debrief_id": message.debrief_id,
        "from": _sid(),
        "user": _me(),
    }
    if message.description is not None:
        payload["description"] = message.description.model_dump()
    if message.candidate is not None:
        payload["candidate"] = message.candidate.model_dump()
    socketio.emit("debrief.signal", payload, to=message.to, namespace=NAMESPACE)
    return {"ok": True}


def on_playback(data: Any) -> dict[str, Any]:
    """Store the shared player's state and mirror it to the others in the room."""
    message = _parse(Playback, data)
    if message is None:
        return _dropped("Playback is {debrief_id, playing, position, rate}.")
    if not _in_room(message.debrief_id):
        DROPPED["playback-outside"] += 1
        return _dropped("Join the debrief first.")
    try:
        state = room.set_playback(
            signed_in_user(), message.debrief_id, message.playing, message.position, message.rate
        )
    except ServiceError as exc:
        return _dropped(exc.message)
    _to_members(
        "debrief.playback",
        {"debrief_id": message.debrief_id, **state},
        message.debrief_id,
        skip_me=True,
    )
    return {"ok": True, "playback": state}


def on_clock(data: Any = None) -> dict[str, Any]:
    """Answer with the server's clock, so clients estimate their offset (for drift)."""
    return {"ok": True, "server_time": time.time()}


def on_leave(data: Any) -> dict[str, Any]:
    """Leave a debrief's room."""
    message = _parse(RoomMessage, data)
    if message is None:
        return _dropped("Send {debrief_id: <positive integer>}.")
    if _my_room(message.debrief_id) in rooms():
        leave_room(_my_room(message.debrief_id))
        left(message.debrief_id)
        room.leave(_sid())
    return {"ok": True}


def left(debrief_id: int) -> None:
    """Tell a debrief's room that this socket left."""
    _to_members(
        "debrief.peer_left", {"debrief_id": debrief_id, "sid": _sid()}, debrief_id, skip_me=False
    )


def on_disconnect_rooms(joined: list[str]) -> None:
    """Close the attendance of a socket that went away and tell the rooms it was in."""
    ids = [int(room.split(":")[1]) for room in joined if room.startswith("debrief:")]
    for debrief_id in ids:
        left(debrief_id)
    if ids:
        room.leave(_sid())


HANDLERS = {
    "debrief.join": on_join,
    "debrief.here": on_here,
    "debrief.signal": on_signal,
    "debrief.playback": on_playback,
    "debrief.clock": on_clock,
    "debrief.leave": on_leave,
}
