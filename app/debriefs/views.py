"""Pages of live debriefs: a debrief's room (or its summary) and the coaching log."""

from __future__ import annotations

from flask import (
    render_template,
)

from app.accounts.security import (
    signed_in,
    signed_in_user,
)
from app.core import policy
from app.core.errors import ServiceError
from app.core.pages import bp
from app.debriefs import coaching
from app.debriefs import service as debriefs
from app.debriefs.models import DebriefRole, NoteKind
from app.feedback import service as feedback
from app.lessons import service as videos


@bp.get("/debriefs/<int:debrief_id>")
@signed_in
def debrief_room(debrief_id: int) -> str:
    """Show a live debrief's room (lobby, call, the lesson watched together), or its summary."""
    me = signed_in_user()
    debrief = debriefs.get_debrief(me, debrief_id)  # anyone not invited: 404
    data = debriefs.serialise(debrief, me)
    lesson = None
    lesson_problem = None
    if debrief.video_id is None:
        lesson_problem = "The lesson of this debrief was deleted."
    else:
        try:
            lesson = videos.view_video(me, debrief.video_id)
        except ServiceError:
            lesson_problem = "You can no longer watch the lesson of this debrief."
    if debrief.closed:
        return render_template(
            "debrief_room.html",
            debrief=debrief,
            data=data,
            summary=True,
            lesson=lesson,
            lesson_problem=lesson_problem,
            people={p.user_id: p.user.name for p in debrief.participants},
            attended={
                p.user_id: coaching.attended_seconds(debrief, p.user_id)
                for p in debrief.participants
            },
        )
    actions = policy.video_actions(me, lesson) if lesson is not None else frozenset()
    return render_template(
        "debrief_room.html",
        debrief=debrief,
        data=data,
        summary=False,
        lesson=lesson,
        lesson_problem=lesson_problem,
        video=lesson,
        actions=actions,
        can_comment=policy.VideoAction.COMMENT in actions,
        is_owner=lesson is not None and lesson.owner_id == me.id,
        has_framework=lesson is not None and feedback.framework_for(lesson, me) is not None,
        me={"id": me.id, "name": me.name, "role": me.role.value},
    )


@bp.get("/debriefs")
@signed_in
def coaching_log() -> str:
    """Show the coaching log: a coach's or teacher's debriefs, or all of an admin's district."""
    me = signed_in_user()
    rows = []
    for d in coaching.coaching_log(me):
        people = {p.role: p.user.name for p in d.participants}
        rows.append(
            {
                "id": d.id,
                "member": debriefs.membership(me, d) is not None,
                "when": d.started_at or d.scheduled_for or d.created_at,
                "lesson": d.video_title,
                "video_id": d.video_id,
                "teacher": people.get(DebriefRole.TEACHER) or people.get(DebriefRole.HOST, ""),
                "coach": people.get(DebriefRole.HOST, ""),
                "status": debriefs.status(d),
                "duration_s": debriefs.duration_s(d),
                "notes": sum(1 for n in d.notes if n.kind == NoteKind.NOTE),
                "action_steps": sum(1 for n in d.notes if n.kind == NoteKind.ACTION_STEP),
                "people": len(d.participants),
            }
        )
    return render_template("debriefs.html", rows=rows)
