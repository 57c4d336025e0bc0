"""Caseloads: which teachers a coach works with (and the framework they use). May use the accounts
service, frameworks and core.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import (
    CoachAssignment,
    Role,
    User,
)
from app.core import audit, policy
from app.core.access import access_shrank
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.frameworks.models import Framework, FrameworkStatus
from app.lessons.models import Video


def assign_coach(
    actor: User | None, coach: User, teacher: User, *, framework_id: int | None = None
) -> CoachAssignment:
    """Put a teacher on a coach's caseload (by an admin of their district, or the system).

    The framework, if named, is the one this relationship's feedback uses; assigning again
    changes it.
    """
    if actor is not None and not policy.may_manage_district(actor, coach.organization_id):
        raise Forbidden("Only an administrator of this district manages caseloads.")
    if coach.organization_id != teacher.organization_id:
        raise Invalid("Coach and teacher must belong to the same district.", field="teacher_id")
    if coach.role != Role.COACH:
        raise Invalid("Only coaches have caseloads.", field="coach_id")
    if teacher.role != Role.TEACHER:
        raise Invalid("Only teachers can be on a caseload.", field="teacher_id")
    existing = db.session.scalars(
        select(CoachAssignment).where(
            CoachAssignment.coach_id == coach.id, CoachAssignment.teacher_id == teacher.id
        )
    ).first()
    if framework_id is not None:
        framework = db.session.get(Framework, framework_id)
        if (
            framework is None
            or framework.organization_id != coach.organization_id
            or framework.status == FrameworkStatus.DRAFT
        ):
            raise Invalid("No such published framework in your district.", field="framework_id")
    if existing:
        if existing.framework_id != framework_id:
            existing.framework_id = framework_id
            db.session.commit()
        return existing
    assignment = CoachAssignment(
        coach_id=coach.id,
        teacher_id=teacher.id,
        created_by_id=actor.id if actor else None,
        framework_id=framework_id,
    )
    db.session.add(assignment)
    db.session.flush()
    audit.record(
        "assignment.created",
        actor=actor,
        object_type="coach_assignment",
        object_id=assignment.id,
        organization_id=coach.organization_id,
        coach_id=coach.id,
        teacher_id=teacher.id,
    )
    db.session.commit()
    return assignment


def unassign_coach(actor: User, assignment_id: int) -> None:
    """Take a teacher off a coach's caseload."""
    assignment = db.session.get(CoachAssignment, assignment_id)
    if assignment is None or not policy.may_manage_district(
        actor, assignment.coach.organization_id
    ):
        raise NotFound("No such assignment.")
    audit.record(
        "assignment.removed",
        actor=actor,
        object_type="coach_assignment",
        object_id=assignment.id,
        coach_id=assignment.coach_id,
        teacher_id=assignment.teacher_id,
    )
    coach_id, teacher_id = assignment.coach_id, assignment.teacher_id
    db.session.delete(assignment)
    db.session.commit()
    # Caseloads grant no lesson by themselves today; the re-check keeps that true if they do.
    access_shrank(
        db.session.scalars(select(Video.id).where(Video.owner_id == teacher_id)), [coach_id]
    )


def district_assignments(actor: User) -> list[CoachAssignment]:
    """Return every caseload entry of the admin's district."""
    if not policy.may_manage_district(actor, actor.organization_id):
        raise Forbidden("Only administrators see every caseload.")
    return list(
        db.session.scalars(
            select(CoachAssignment)
            .join(User, CoachAssignment.coach_id == User.id)
            .where(User.organization_id == actor.organization_id)
            .order_by(CoachAssignment.coach_id, CoachAssignment.teacher_id)
        )
    )


def caseload(coach: User) -> list[User]:
    """Return the teachers on a coach's caseload."""
    return list(
        db.session.scalars(
            select(User)
            .join(CoachAssignment, CoachAssignment.teacher_id == User.id)
            .where(CoachAssignment.coach_id == coach.id, User.active.is_(True))
            .order_by(func.lower(User.name))
        )
    )


def coaches_of(teacher: User) -> list[User]:
    """Return the coaches whose caseload includes the teacher."""
    return list(
        db.session.scalars(
            select(User)
            .join(CoachAssignment, CoachAssignment.coach_id == User.id)
            .where(CoachAssignment.teacher_id == teacher.id, User.active.is_(True))
            .order_by(func.lower(User.name))
        )
    )
