"""Debriefs: create and schedule, who may enter, their JSON form, ICE (room.py, recording.py and
coaching.py are beside it).

Only invited people enter; each must be able to watch the lesson discussed, on every request
and every room message, and for as long as they stay: when access to the lesson shrinks the
person leaves the room (see close_debrief_rooms). A debrief starts when the first person joins
and ends when the host ends it for everyone or the last person leaves (a reload within the
call joins again and reopens it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.core import audit, policy, richtext
from app.core.db import utcnow
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.core.policy import VideoAction
from app.core.realtime import publish, user_room
from app.debriefs.models import (
    Debrief,
    DebriefAttendance,
    DebriefNote,
    DebriefParticipant,
    DebriefRole,
)
from app.debriefs.schemas import MAX_PEOPLE, DebriefIn
from app.lessons.service import get_video


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


def to_room(event: str, data: dict[str, Any], debrief: Debrief) -> None:
    """Send an event to the members in a debrief\'s room."""
    publish(event, data, room=member_rooms(debrief))


# --- reading ---------------------------------------------------------------------------------


def membership(user: User, debrief: Debrief) -> DebriefParticipant | None:
    """Return the user's invitation to the debrief, if they are an active member of it."""
    if not user.active or user.organization_id != debrief.organization_id:
        return None
    return next((p for p in debrief.participants if p.user_id == user.id), None)


def may_enter(user: User, debrief: Debrief) -> bool:
    """Answer whether the user is a member who may still watch the lesson discussed.

    A debrief about a deleted lesson is closed to everyone (its notes talk about that lesson);
    the coaching log keeps only its attendance.
    """
    if membership(user, debrief) is None or debrief.video is None:
        return False
    return policy.may_video(user, VideoAction.VIEW, debrief.video)


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


def recording_state(debrief: Debrief) -> dict[str, Any]:
    """Return the recording's state and who has consented."""
    return {
        "state": debrief.recording.value,
        "consented": sorted(p.user_id for p in debrief.participants if p.consent),
        "waiting_for": sorted(p.user_id for p in debrief.participants if not p.consent),
        "video_id": debrief.recording_video_id,
        "error": debrief.recording_error,
    }


def host_debrief(user: User, debrief_id: int) -> Debrief:
    """Return a debrief the user hosts (started), or raise Forbidden."""
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
