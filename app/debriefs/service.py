"""Debriefs: create and schedule, who may enter, attendance (the coaching log), notes, ICE.

Only invited people enter; each must be able to watch the lesson discussed, on every request
and every room message, and for as long as they stay: when access to the lesson shrinks the
person leaves the room (see close_debrief_rooms). A debrief starts when the first person joins
and ends when the host ends it for everyone or the last person leaves (a reload within the
call joins again and reopens it).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.core import audit, policy, queue, richtext
from app.core.access import closes_channels
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, from_status
from app.core.extensions import db, socketio
from app.core.numbers import Count, Id
from app.core.policy import VideoAction
from app.core.realtime import NAMESPACE, publish, user_room
from app.debriefs.models import (
    Debrief,
    DebriefAttendance,
    DebriefNote,
    DebriefParticipant,
    DebriefRole,
    NoteKind,
    RecordingState,
)
from app.lessons.service import get_video
from app.rtc import client as rtc_client
from app.rtc import folders

COMPOSE_RECORDING = "loupe.debriefs.compose_recording"  # the task of debriefs/jobs.py
MAX_PEOPLE = 4


def member_room(debrief_id: int, user_id: int) -> str:
    """Return one member's room of a debrief: every socket of theirs in it joins it."""
    return f"debrief:{debrief_id}:user:{user_id}"


def member_rooms(debrief: Debrief) -> list[str]:
    """Return the rooms of the members who may be in the debrief now."""
    return [
        member_room(debrief.id, p.user_id)
        for p in debrief.participants
        if may_enter(p.user, debrief)
    ]


def _to_room(event: str, data: dict[str, Any], debrief: Debrief) -> None:
    publish(event, data, room=member_rooms(debrief))


class DebriefIn(BaseModel):
    """A new debrief about a lesson."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    video_id: Id
    participants: list[str] = Field(
        default_factory=list,
        max_length=MAX_PEOPLE - 1,
        description="Emails of the others invited; the lesson's teacher is always invited",
    )
    scheduled_for: datetime | None = Field(
        None, description="When it is planned (ISO 8601 with a time zone); empty for now"
    )


class NoteIn(BaseModel):
    """A shared note or an action step."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: NoteKind = NoteKind.NOTE
    body: str = Field(max_length=richtext.MAX_BODY * 2)
    at_ms: Count | None = Field(None, description="The lesson time it is about")


class NotePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    done: bool


# --- reading ---------------------------------------------------------------------------------


def membership(user: User, debrief: Debrief) -> DebriefParticipant | None:
    """Return the user's invitation to the debrief, if they are an active member of it."""
    if not user.active or user.organization_id != debrief.organization_id:
        return None
    return next((p for p in debrief.participants if p.user_id == user.id), None)


def may_enter(user: User, debrief: Debrief) -> bool:
    """Answer whether the user is a member who may still watch the lesson discussed.

    The log outlives a deleted lesson: its members still read it, but nobody is in its room.
    """
    if membership(user, debrief) is None:
        return False
    return debrief.video is None or policy.may_video(user, VideoAction.VIEW, debrief.video)


def get_debrief(user: User, debrief_id: int) -> Debrief:
    """Return a debrief of the user's about a lesson they may watch; else it does not exist."""
    debrief = db.session.get(Debrief, debrief_id)
    if debrief is None or not may_enter(user, debrief):
        raise NotFound("No such debrief.")
    return debrief


def member_socket(debrief_id: int, sid: str) -> bool:
    """Answer whether a socket is in the debrief's room now (by its open attendance)."""
    attendance = db.session.scalars(
        select(DebriefAttendance).where(
            DebriefAttendance.debrief_id == debrief_id,
            DebriefAttendance.sid == sid,
            DebriefAttendance.left_at.is_(None),
        )
    ).first()
    if attendance is None:
        return False
    debrief = db.session.get(Debrief, debrief_id)
    person = db.session.get(User, attendance.user_id)
    return debrief is not None and person is not None and may_enter(person, debrief)


def list_debriefs(user: User) -> list[Debrief]:
    """Return the user's debriefs about lessons they may still watch, soonest and live first."""
    mine = select(DebriefParticipant.debrief_id).where(DebriefParticipant.user_id == user.id)
    found = db.session.scalars(
        select(Debrief)
        .where(Debrief.id.in_(mine), Debrief.organization_id == user.organization_id)
        .order_by(Debrief.created_at.desc())
        .limit(200)
    )
    shown = [d for d in found if may_enter(user, d)]
    return sorted(shown, key=lambda d: (d.ended_at is not None, _sort_time(d)), reverse=False)


def _sort_time(debrief: Debrief) -> float:
    moment = debrief.ended_at or debrief.scheduled_for or debrief.created_at
    # Open ones soonest first; ended ones most recent first.
    return -moment.timestamp() if debrief.ended_at is not None else moment.timestamp()


def status(debrief: Debrief) -> str:
    """Return scheduled, live or ended."""
    if debrief.ended_at is not None:
        return "ended"
    return "live" if debrief.started_at is not None else "scheduled"


def duration_s(debrief: Debrief) -> float | None:
    """Return how long the debrief lasted, once it has ended."""
    if debrief.started_at is None or debrief.ended_at is None:
        return None
    return round((debrief.ended_at - debrief.started_at).total_seconds(), 1)


def present(debrief: Debrief) -> list[DebriefAttendance]:
    """Return the open attendance records: who is in the room now."""
    return list(
        db.session.scalars(
            select(DebriefAttendance).where(
                DebriefAttendance.debrief_id == debrief.id, DebriefAttendance.left_at.is_(None)
            )
        )
    )


# --- creating --------------------------------------------------------------------------------


def create_debrief(user: User, data: DebriefIn) -> Debrief:
    """Start or schedule a debrief about a lesson the user may comment on."""
    video = get_video(user, data.video_id, VideoAction.COMMENT)
    if user.role not in (Role.COACH, Role.TEACHER):
        raise Forbidden("Coaches and teachers hold debriefs.")
    if data.scheduled_for is not None:
        if data.scheduled_for.tzinfo is None:
            raise Invalid("Give the time with its time zone.", field="scheduled_for")
        if data.scheduled_for < utcnow() - timedelta(minutes=5):
            raise Invalid("The time has passed.", field="scheduled_for")
    people: dict[int, tuple[User, DebriefRole]] = {user.id: (user, DebriefRole.HOST)}
    if video.owner_id != user.id:
        people[video.owner_id] = (video.owner, DebriefRole.TEACHER)
    for raw in data.participants:
        email = accounts.normalise_email(raw)
        person = accounts.find_user_by_email(email)
        # One message for unknown, foreign and inactive accounts: nothing leaks.
        if (
            person is None
            or not person.active
            or person.organization_id != user.organization_id
            or person.role == Role.ADMIN
        ):
            raise Invalid(
                f"No active coach or teacher of your district is {email}.", field="participants"
            )
        if not policy.may_video(person, VideoAction.VIEW, video):
            raise Invalid(
                f"{person.name} cannot watch this lesson; its teacher must share it first.",
                field="participants",
            )
        people.setdefault(person.id, (person, DebriefRole.GUEST))
    if len(people) > MAX_PEOPLE:
        raise Invalid(f"A debrief has at most {MAX_PEOPLE} people.", field="participants")
    debrief = Debrief(
        organization_id=video.organization_id,
        video_id=video.id,
        video_title=video.title,
        created_by_id=user.id,
        scheduled_for=data.scheduled_for,
        playback={"playing": False, "position": 0.0, "rate": 1.0, "at": time.time()},
        participants=[
            DebriefParticipant(user_id=uid, role=role) for uid, (_, role) in people.items()
        ],
    )
    db.session.add(debrief)
    db.session.flush()
    audit.record(
        "debrief.created",
        actor=user,
        object_type="debrief",
        object_id=debrief.id,
        video_id=video.id,
        participants=sorted(people),
    )
    db.session.commit()
    for uid in people:
        if uid != user.id:
            publish("debrief.invited", {"debrief_id": debrief.id}, room=user_room(uid))
    return debrief


# --- in the room -----------------------------------------------------------------------------


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
            _to_room("debrief.peer_left", {"debrief_id": debrief.id, "sid": sid}, debrief)
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
    debrief = _host(user, debrief_id)
    if debrief.recording in (RecordingState.ASKING, RecordingState.ON):
        _stop(debrief, user)
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
    _to_room("debrief.ended", {"debrief_id": debrief.id}, debrief)
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
    _to_room("debrief.note", serialise_note(note), debrief)
    return note


def set_note_done(user: User, debrief_id: int, note_id: int, done: bool) -> DebriefNote:
    """Tick an action step done (or not)."""
    debrief = get_debrief(user, debrief_id)
    note = next((n for n in debrief.notes if n.id == note_id), None)
    if note is None:
        raise NotFound("No such note.")
    note.done = done
    db.session.commit()
    _to_room("debrief.note", serialise_note(note), debrief)
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
    _to_room("debrief.note_deleted", {"debrief_id": debrief.id, "id": note_id}, debrief)


def serialise_note(note: DebriefNote) -> dict[str, Any]:
    """Return the JSON form of a note."""
    return {
        "id": note.id,
        "debrief_id": note.debrief_id,
        "kind": note.kind.value,
        "body": note.body,
        "body_html": str(richtext.render(note.body)),
        "at_ms": note.at_ms,
        "done": note.done,
        "author": {"id": note.author.id, "name": note.author.name},
        "created_at": note.created_at.isoformat(),
    }


def serialise(debrief: Debrief, viewer: User) -> dict[str, Any]:
    """Return the JSON form of a debrief for one of its members."""
    return {
        "id": debrief.id,
        "video": {"id": debrief.video_id, "title": debrief.video_title},
        "status": status(debrief),
        "closed": debrief.closed,
        "scheduled_for": debrief.scheduled_for.isoformat() if debrief.scheduled_for else None,
        "started_at": debrief.started_at.isoformat() if debrief.started_at else None,
        "ended_at": debrief.ended_at.isoformat() if debrief.ended_at else None,
        "duration_s": duration_s(debrief),
        "created_by": {"id": debrief.created_by.id, "name": debrief.created_by.name},
        "participants": [
            {"id": p.user.id, "name": p.user.name, "role": p.role.value}
            for p in debrief.participants
        ],
        "is_host": any(
            p.user_id == viewer.id and p.role == DebriefRole.HOST for p in debrief.participants
        ),
        "playback": debrief.playback,
        "recording": recording_state(debrief),
        "notes": [serialise_note(n) for n in debrief.notes],
        "url": f"/debriefs/{debrief.id}",
    }


# --- recording (opt-in) -----------------------------------------------------------------------


def announce_recording(debrief: Debrief) -> None:
    _to_room("debrief.recording", {"debrief_id": debrief.id, **recording_state(debrief)}, debrief)


def recording_state(debrief: Debrief) -> dict[str, Any]:
    """Return the recording's state and who has consented."""
    return {
        "state": debrief.recording.value,
        "consented": sorted(p.user_id for p in debrief.participants if p.consent),
        "waiting_for": sorted(p.user_id for p in debrief.participants if not p.consent),
        "video_id": debrief.recording_video_id,
        "error": debrief.recording_error,
    }


def request_recording(user: User, debrief_id: int) -> Debrief:
    """Ask everyone for consent to record (the host only); nothing records until all agree."""
    debrief = _host(user, debrief_id)
    if debrief.closed:
        raise Conflict("This debrief has ended.")
    if debrief.recording in (RecordingState.ASKING, RecordingState.ON):
        return debrief
    if debrief.recording == RecordingState.PROCESSING:
        raise Conflict("The last recording is still being processed.")
    for participant in debrief.participants:
        # The host asking is the host's consent; everyone else is asked afresh.
        participant.consent = participant.user_id == user.id
    debrief.recording = RecordingState.ASKING
    debrief.recording_error = None
    audit.record(
        "debrief.recording_requested", actor=user, object_type="debrief", object_id=debrief.id
    )
    _maybe_start(debrief)
    db.session.commit()
    announce_recording(debrief)
    return debrief


def _maybe_start(debrief: Debrief) -> None:
    if debrief.recording == RecordingState.ASKING and all(p.consent for p in debrief.participants):
        debrief.recording = RecordingState.ON


def give_consent(user: User, debrief_id: int, agree: bool) -> Debrief:
    """Record a participant's yes or no; a no (even later) stops the recording."""
    debrief = get_debrief(user, debrief_id)
    member = membership(user, debrief)
    assert member is not None
    if debrief.recording not in (RecordingState.ASKING, RecordingState.ON):
        raise Conflict("Nobody asked to record this debrief.")
    member.consent = agree
    audit.record(
        "debrief.recording_consent",
        actor=user,
        object_type="debrief",
        object_id=debrief.id,
        agree=agree,
    )
    if agree:
        _maybe_start(debrief)
        db.session.commit()
        announce_recording(debrief)
        return debrief
    return _stop(debrief, user, reason=f"{user.name} did not consent to recording.")


def recording_offer(user: User, debrief_id: int, sdp: str) -> dict[str, Any]:
    """Forward a member's offer to the recording gateway once everyone has consented."""
    debrief = get_debrief(user, debrief_id)
    if debrief.recording != RecordingState.ON:
        raise Conflict("Recording needs everyone's consent first.")
    return _gateway(rtc_client.publish, debrief.id, user.id, sdp)


def _gateway(call: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Call the recording gateway; its errors become the domain's."""
    try:
        return call(*args)
    except rtc_client.GatewayError as exc:
        raise from_status(exc.status, exc.message) from exc


def stop_recording(user: User, debrief_id: int) -> Debrief:
    """Stop recording (the host only); the recording becomes a video for the participants."""
    return _stop(_host(user, debrief_id), user)


def _stop(debrief: Debrief, user: User, reason: str | None = None) -> Debrief:
    was_on = debrief.recording == RecordingState.ON
    debrief.recording = RecordingState.OFF
    for participant in debrief.participants:
        participant.consent = False
    if was_on:
        result = _gateway(rtc_client.finish, debrief.id)
        if result.get("tracks"):
            debrief.recording = RecordingState.PROCESSING
            db.session.commit()
            queue.enqueue(COMPOSE_RECORDING, debrief.id, result.get("manifest"))
        else:
            discard_recording(debrief.id, result)  # nothing worth composing
    debrief.recording_error = reason
    audit.record(
        "debrief.recording_stopped", actor=user, object_type="debrief", object_id=debrief.id
    )
    db.session.commit()
    announce_recording(debrief)
    return debrief


def discard_recording(debrief_id: int, result: dict[str, Any]) -> None:
    """Remove the files of one finished recording of a debrief (composed, or refused)."""
    # Only its own files: the debrief may be recording again into the same folder.
    data_dir = current_app.config["DATA_DIR"]
    where = folders.folder(data_dir, "debrief", debrief_id)
    folders.discard(data_dir, "debrief", debrief_id, folders.files_of(where, result))


def recording_kept(debrief_id: int, quiet_s: float) -> bool:
    """Answer whether a debrief's recording folder may still be needed.

    quiet_s is how long ago its folder was last written to.
    """
    debrief = db.session.get(Debrief, debrief_id)
    if debrief is None:
        return False
    if debrief.recording in (RecordingState.ASKING, RecordingState.ON):
        return True  # the gateway records (or is about to)
    if debrief.recording == RecordingState.PROCESSING:
        return quiet_s < float(current_app.config["RECORDING_RETENTION_HOURS"]) * 3600
    # Off, done or failed: leftovers, unless a new recording has just begun writing.
    return quiet_s < folders.WRITING_S


def _host(user: User, debrief_id: int) -> Debrief:
    debrief = get_debrief(user, debrief_id)
    member = membership(user, debrief)
    if member is None or member.role != DebriefRole.HOST:
        raise Forbidden("Only the coach who started the debrief does this.")
    return debrief


# --- ICE -------------------------------------------------------------------------------------


def ice_servers(user: User, debrief_id: int) -> dict[str, Any]:
    """Return the STUN and TURN servers for a member, TURN with expiring credentials.

    The credentials follow coturn's shared-secret REST scheme (`use-auth-secret`): the user
    name is "<expiry unix time>:<user id>", the password base64(HMAC-SHA1(secret, name)).
    """
    get_debrief(user, debrief_id)
    config = current_app.config
    servers: list[dict[str, Any]] = []
    if config["STUN_URLS"]:
        servers.append({"urls": list(config["STUN_URLS"])})
    expires = int(time.time()) + int(config["TURN_TTL_SECONDS"])
    if config["TURN_URLS"] and config["TURN_SECRET"]:
        username = f"{expires}:{user.id}"
        digest = hmac.new(config["TURN_SECRET"].encode(), username.encode(), hashlib.sha1).digest()
        servers.append(
            {
                "urls": list(config["TURN_URLS"]),
                "username": username,
                "credential": base64.b64encode(digest).decode(),
            }
        )
    return {"ice_servers": servers, "expires_at": expires}


# --- the coaching log ------------------------------------------------------------------------


def coaching_log(user: User) -> list[Debrief]:
    """Return the debriefs a coach took part in, or every debrief of an admin's district."""
    query = select(Debrief).where(Debrief.organization_id == user.organization_id)
    if policy.may_manage_district(user, user.organization_id):
        pass
    elif user.active and user.role in (Role.COACH, Role.TEACHER):
        mine = select(DebriefParticipant.debrief_id).where(DebriefParticipant.user_id == user.id)
        query = query.where(Debrief.id.in_(mine))
    else:
        raise Forbidden("Only members of the district see its coaching log.")
    return list(
        db.session.scalars(
            query.where(or_(Debrief.started_at.is_not(None), Debrief.closed.is_(False))).order_by(
                Debrief.started_at.desc().nulls_last(), Debrief.id.desc()
            )
        )
    )


def attended_seconds(debrief: Debrief, user_id: int) -> float:
    """Return how long one person was in the room, over all their stretches."""
    total = 0.0
    now = utcnow()
    for a in db.session.scalars(
        select(DebriefAttendance).where(
            DebriefAttendance.debrief_id == debrief.id, DebriefAttendance.user_id == user_id
        )
    ):
        total += ((a.left_at or now) - a.joined_at).total_seconds()
    return round(total, 1)


LOG_COLUMNS = (
    "debrief_id",
    "lesson",
    "teacher",
    "coach",
    "participants",
    "scheduled_for",
    "started_at",
    "ended_at",
    "duration_minutes",
    "notes",
    "action_steps",
)


def coaching_log_csv(user: User) -> str:
    """Return the coaching log as CSV, one debrief a row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LOG_COLUMNS)
    for d in coaching_log(user):
        people = {p.role: p.user.name for p in d.participants}
        teacher = people.get(DebriefRole.TEACHER) or people.get(DebriefRole.HOST, "")
        seconds = duration_s(d)
        writer.writerow(
            [
                d.id,
                _cell(d.video_title),
                _cell(teacher),
                _cell(people.get(DebriefRole.HOST, "")),
                _cell("; ".join(f"{p.user.name} ({p.role.value})" for p in d.participants)),
                d.scheduled_for.isoformat() if d.scheduled_for else "",
                d.started_at.isoformat() if d.started_at else "",
                d.ended_at.isoformat() if d.ended_at else "",
                f"{seconds / 60:.1f}" if seconds is not None else "",
                sum(1 for n in d.notes if n.kind == NoteKind.NOTE),
                sum(1 for n in d.notes if n.kind == NoteKind.ACTION_STEP),
            ]
        )
    return out.getvalue()


def _cell(text: str) -> str:
    # Spreadsheets run cells that start like a formula; a leading apostrophe keeps them text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
