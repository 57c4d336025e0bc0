"""Frameworks: create, edit (a published one gets a new version), publish, import, export.

Feedback keeps the framework version, dimension and level it was made with: a published
version is never changed in place, only superseded.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Organization, Role, User
from app.core import audit
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.frameworks.builtin import BUILTINS, spec
from app.frameworks.models import Framework, FrameworkStatus, RubricDimension, RubricLevel
from app.frameworks.schemas import DimensionSpec, FrameworkSpec, LevelSpec


def parse_spec(data: Any) -> FrameworkSpec:
    """Validate framework JSON, raising Invalid naming the part to fix."""
    try:
        return FrameworkSpec.model_validate(data)
    except ValidationError as exc:
        raise Invalid.from_validation(exc) from exc


def may_edit(user: User, organization_id: int) -> bool:
    """Answer whether the user manages the district's frameworks (admins and coaches)."""
    return (
        user.active
        and user.organization_id == organization_id
        and user.role in (Role.ADMIN, Role.COACH)
    )


def _fill(framework: Framework, data: FrameworkSpec) -> None:
    framework.name = data.name
    framework.description = data.description
    framework.dimensions = [
        RubricDimension(
            position=i,
            name=d.name,
            description=d.description,
            colour=d.colour,
            levels=[
                RubricLevel(score=lv.score, label=lv.label, descriptor=lv.descriptor)
                for lv in d.levels
            ],
        )
        for i, d in enumerate(data.dimensions)
    ]


def seed_builtins(organization: Organization) -> list[Framework]:
    """Give a new district the built-in frameworks, published."""
    made = []
    for key, template in BUILTINS.items():
        framework = Framework(
            organization_id=organization.id,
            status=FrameworkStatus.PUBLISHED,
            builtin=key,
            published_at=utcnow(),
        )
        _fill(framework, FrameworkSpec.model_validate(spec(template)))
        db.session.add(framework)
        made.append(framework)
    db.session.commit()
    return made


def ensure_builtins() -> int:
    """Seed the built-ins into districts made before frameworks existed; count those seeded."""
    seeded = 0
    have = set(
        db.session.scalars(select(Framework.organization_id).where(Framework.builtin.is_not(None)))
    )
    for organization in db.session.scalars(select(Organization)):
        if organization.id not in have:
            seed_builtins(organization)
            seeded += 1
    return seeded


def list_frameworks(user: User, *, include_superseded: bool = False) -> list[Framework]:
    """Return the district's frameworks the user may see (drafts only for editors)."""
    statuses = [FrameworkStatus.PUBLISHED]
    if may_edit(user, user.organization_id):
        statuses.append(FrameworkStatus.DRAFT)
    if include_superseded and may_edit(user, user.organization_id):
        statuses.append(FrameworkStatus.SUPERSEDED)
    return list(
        db.session.scalars(
            select(Framework)
            .where(
                Framework.organization_id == user.organization_id, Framework.status.in_(statuses)
            )
            .order_by(Framework.name, Framework.version)
        )
    )


def get_framework(user: User, framework_id: int) -> Framework:
    """Return a framework of the user's district (drafts only for editors)."""
    framework = db.session.get(Framework, framework_id)
    if (
        framework is None
        or not user.active
        or framework.organization_id != user.organization_id
        or (
            framework.status == FrameworkStatus.DRAFT
            and not may_edit(user, framework.organization_id)
        )
    ):
        raise NotFound("No such framework.")
    return framework


def _editable(user: User, framework_id: int) -> Framework:
    framework = get_framework(user, framework_id)
    if not may_edit(user, framework.organization_id):
        raise Forbidden("Only coaches and administrators edit frameworks.")
    return framework


def create_framework(user: User, data: FrameworkSpec, *, publish: bool = False) -> Framework:
    """Create a framework in the user's district, as a draft unless published at once."""
    if not may_edit(user, user.organization_id):
        raise Forbidden("Only coaches and administrators create frameworks.")
    framework = Framework(organization_id=user.organization_id, created_by_id=user.id)
    _fill(framework, data)
    db.session.add(framework)
    db.session.flush()
    audit.record("framework.created", actor=user, object_type="framework", object_id=framework.id)
    if publish:
        _publish(framework, user)
    db.session.commit()
    return framework


def update_framework(user: User, framework_id: int, data: FrameworkSpec) -> Framework:
    """Change a draft in place; a published framework gets a new published version instead."""
    framework = _editable(user, framework_id)
    if framework.status == FrameworkStatus.SUPERSEDED:
        raise Conflict("This is an old version; edit the current one.")
    if framework.status == FrameworkStatus.DRAFT:
        _fill(framework, data)
        audit.record(
            "framework.edited", actor=user, object_type="framework", object_id=framework.id
        )
        db.session.commit()
        return framework
    if export_spec(framework) == data.model_dump():
        return framework  # nothing changed: no empty new version
    newer = Framework(
        organization_id=framework.organization_id,
        family=framework.family,
        version=_next_version(framework.family),
        builtin=framework.builtin,
        created_by_id=user.id,
    )
    _fill(newer, data)
    db.session.add(newer)
    try:
        db.session.flush()
    except IntegrityError as exc:
        # Someone else saved the same version a moment earlier (unique family+version).
        db.session.rollback()
        raise Conflict("Someone else just saved a new version; reload and edit that.") from exc
    _publish(newer, user)
    db.session.commit()
    return newer


def _next_version(family: str) -> int:
    versions = db.session.scalars(select(Framework.version).where(Framework.family == family))
    return max(versions, default=0) + 1


def _publish(framework: Framework, user: User) -> None:
    for older in db.session.scalars(
        select(Framework).where(
            Framework.family == framework.family,
            Framework.status == FrameworkStatus.PUBLISHED,
            Framework.id != framework.id,
        )
    ):
        older.status = FrameworkStatus.SUPERSEDED
    framework.status = FrameworkStatus.PUBLISHED
    framework.published_at = utcnow()
    audit.record(
        "framework.published",
        actor=user,
        object_type="framework",
        object_id=framework.id,
        version=framework.version,
    )


def publish(user: User, framework_id: int) -> Framework:
    """Publish a draft; the family's earlier published version is superseded."""
    framework = _editable(user, framework_id)
    if framework.status != FrameworkStatus.DRAFT:
        raise Conflict("Only drafts can be published.")
    _publish(framework, user)
    db.session.commit()
    return framework


def export_spec(framework: Framework) -> dict[str, Any]:
    """Return the framework in the import/export format."""
    return FrameworkSpec(
        name=framework.name,
        description=framework.description,
        dimensions=[
            DimensionSpec(
                name=d.name,
                description=d.description,
                colour=d.colour,
                levels=[
                    LevelSpec(score=lv.score, label=lv.label, descriptor=lv.descriptor)
                    for lv in d.levels
                ],
            )
            for d in framework.dimensions
        ],
    ).model_dump()
