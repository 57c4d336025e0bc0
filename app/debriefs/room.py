"""In the room of a live debrief: joining and leaving (attendance), the shared player, shared notes,
ending it, and closing it to people who may no longer be in it. May use the debriefs service, its
recording and core.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import or_, select

from app.accounts.models import User
from app.core import audit, richtext
from app.core.access import closes_channels
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.extensions import db, socketio
from app.core.realtime import NAMESPACE, publish
from app.debriefs import recording
from app.debriefs.models import (
    Debrief,
    DebriefAttendance,
    DebriefNote,
    RecordingState,
)
from app.debriefs.schemas import NoteIn
from app.debriefs.service import (
    get_debrief,
    host_debrief,
    may_enter,
    member_room,
    present,
    serialise_note,
    to_room,
)


def join(user: User, debrief_id: int, sid: str) -> Debrief:
    """Enter the room: record attendance; the first one in starts the debrief."""
    debrief = get_debrief(user, debrief_id)
    if debrief.closed:
        raise Conflict("This debrief has ended.")
    if debrief.video is None:
        raise Conflict("The lesson of this debrief was deleted.")
    now = utcnow()
    if debrief.started_at is None:
        debrief.started_at = now
        audit.record("debrief.started", actor=user, object_type="debrief", object_id=debrief.id)
    debrief.ended_at = None
    db.session.add(
        DebriefAttendance(debrief_id=debrief.id, user_id=user.id, sid=sid, joined_at=now)
    )
    db.session.commit()
    return debrief


def leave(sid: str) -> list[int]:
    """Close the attendance of a socket; end debriefs nobody is left in. Return their ids."""
    return _close(
        db.session.scalars(
            select(DebriefAttendance).where(
                DebriefAttendance.sid == sid, DebriefAttendance.left_at.is_(None)
            )
        )
    )


def _close(attendances: Any) -> list[int]:
    now = utcnow()
    touched: set[int] = set()
    for attendance in attendances:
        attendance.left_at = now
        touched.add(attendance.debrief_id)
    db.session.flush()
    for debrief_id in touched:
        debrief = db.session.get(Debrief, debrief_id)
        if debrief is not None and not present(debrief) and debrief.ended_at is None:
            debrief.ended_at = now
    db.session.commit()
    return sorted(touched)


@closes_channels("debrief rooms")
def close_debrief_rooms(video_ids: frozenset[int], user_ids: frozenset[int]) -> None:
    """Take out of debrief rooms the people who may no longer watch the lesson discussed.

    Their peers get the same peer_left as when someone leaves; a debrief about a deleted
    lesson keeps nobody in its room.
    """
    open_debriefs = select(DebriefAttendance.debrief_id).where(DebriefAttendance.left_at.is_(None))
    for debrief in db.session.scalars(
        select(Debrief).where(
            Debrief.id.in_(open_debriefs),
            or_(Debrief.video_id.in_(video_ids), Debrief.video_id.is_(None)),
        )
    ):
        refused = [
            a
            for a in present(debrief)
            if debrief.video is None
            or (
                a.user_id in user_ids
                and not may_enter(db.session.get_one(User, a.user_id), debrief)
            )
        ]
        if not refused:
            continue
        gone = [(a.sid, a.user_id) for a in refused]
        _close(refused)
        for sid, user_id in gone:
            socketio.close_room(member_room(debrief.id, user_id), namespace=NAMESPACE)
            to_room("debrief.peer_left", {"debrief_id": debrief.id, "sid": sid}, debrief)
            publish("debrief.removed", {"debrief_id": debrief.id}, room=sid)
        audit.record_now(
            "debrief.members_removed",
            actor=None,
            object_type="debrief",
            object_id=debrief.id,
            organization_id=debrief.organization_id,
            users=sorted({u for _, u in gone}),
        )


def end(user: User, debrief_id: int) -> Debrief:
    """End the debrief for everyone (the host only); a recording stops and is kept."""
    debrief = host_debrief(user, debrief_id)
    if debrief.recording in (RecordingState.ASKING, RecordingState.ON):
        recording.stop(debrief, user)
    now = utcnow()
    for attendance in present(debrief):
        attendance.left_at = now
    if debrief.started_at is not None and debrief.ended_at is None:
        debrief.ended_at = now
    if debrief.started_at is None:
        debrief.started_at = debrief.ended_at = now
    debrief.closed = True
    audit.record("debrief.ended", actor=user, object_type="debrief", object_id=debrief.id)
    db.session.commit()
    to_room("debrief.ended", {"debrief_id": debrief.id}, debrief)
    return debrief


def set_playback(
    user: User, debrief_id: int, playing: bool, position: float, rate: float
) -> dict[str, Any]:
    """Store the shared player's state, stamped with the server's clock, and return it."""
    debrief = get_debrief(user, debrief_id)
    if not 0 <= position <= 24 * 3600:
        raise Invalid("position is seconds into the lesson.", field="position")
    if not 0.25 <= rate <= 4:
        raise Invalid("rate is between 0.25 and 4.", field="rate")
    state = {
        "playing": playing,
        "position": position,
        "rate": rate,
        "at": time.time(),
        "by": user.id,
    }
    debrief.playback = state
    db.session.commit()
    return state


def add_note(user: User, debrief_id: int, data: NoteIn) -> DebriefNote:
    """Write a shared note or action step; everyone in the room sees it at once."""
    debrief = get_debrief(user, debrief_id)
    note = DebriefNote(
        debrief_id=debrief.id,
        author_id=user.id,
        kind=data.kind,
        body=richtext.clean(data.body),
        at_ms=data.at_ms,
        created_at=utcnow(),
    )
    db.session.add(note)
    db.session.commit()
    to_room("debrief.note", serialise_note(note), debrief)
    return note


def set_note_done(user: User, debrief_id: int, note_id: int, done: bool) -> DebriefNote:
    """Tick an action step done (or not)."""
    debrief = get_debrief(user, debrief_id)
    note = next((n for n in debrief.notes if n.id == note_id), None)
    if note is None:
        raise NotFound("No such note.")
    note.done = done
    db.session.commit()
    to_room("debrief.note", serialise_note(note), debrief)
    return note


def delete_note(user: User, debrief_id: int, note_id: int) -> None:
    """Delete one's own note."""
    debrief = get_debrief(user, debrief_id)
    note = next((n for n in debrief.notes if n.id == note_id), None)
    if note is None:
        raise NotFound("No such note.")
    if note.author_id != user.id:
        raise Forbidden("Only its author deletes a note.")
    db.session.delete(note)
    db.session.commit()
    to_room("debrief.note_deleted", {"debrief_id": debrief.id, "id": note_id}, debrief)
