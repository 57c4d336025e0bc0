"""The coaching log: the debriefs a coach or teacher held (an administrator: the district's), with
attendance, as rows and as CSV. May use the debriefs service and core.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import or_, select

from app.accounts.models import Role, User
from app.core import policy
from app.core.db import utcnow
from app.core.errors import Forbidden
from app.core.extensions import db
from app.debriefs.models import (
    Debrief,
    DebriefAttendance,
    DebriefParticipant,
    DebriefRole,
    NoteKind,
)
from app.debriefs.service import duration_s


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
