"""People, their districts and schools, API tokens, invitations and coaching caseloads."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import NEVER_REUSE_IDS, Base, str_enum, utcnow

if TYPE_CHECKING:  # for the annotation only: the relationship finds Framework by name
    from app.frameworks.models import Framework


class Role(enum.StrEnum):
    """What a person does in their district."""

    TEACHER = "teacher"
    COACH = "coach"
    ADMIN = "admin"


def new_session_id() -> str:
    """Return an unguessable id for a login session."""
    return secrets.token_urlsafe(32)


class User(Base):
    """A teacher, coach or district administrator."""

    __tablename__ = "user"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    school: Mapped[School | None] = relationship()

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class LoginSession(Base):
    """One sign-in on one device; the cookie names it, and ending it signs that device out."""

    __tablename__ = "login_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_session_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A personal token for scripts and streaming software; only its hash is stored."""

    __tablename__ = "api_token"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Invitation(Base):
    """An admin's invitation for a new person to join the district with a role."""

    __tablename__ = "invitation"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    invited_by: Mapped[User] = relationship()


class CoachAssignment(Base):
    """One teacher on one coach's caseload."""

    __tablename__ = "coach_assignment"
    __table_args__ = (UniqueConstraint("coach_id", "teacher_id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The framework this coaching relationship's feedback uses, unless a video names one.
    framework_id: Mapped[int | None] = mapped_column(
        ForeignKey("framework.id", ondelete="SET NULL")
    )

    coach: Mapped[User] = relationship(foreign_keys=[coach_id])
    framework: Mapped[Framework | None] = relationship()
    teacher: Mapped[User] = relationship(foreign_keys=[teacher_id])


class Organization(Base):
    """A district: the boundary nothing crosses."""

    __tablename__ = "organization"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    schools: Mapped[list[School]] = relationship(
        back_populates="organization", order_by="School.name"
    )


class School(Base):
    """A school inside a district."""

    __tablename__ = "school"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="schools")
