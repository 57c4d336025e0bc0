"""Instructional frameworks (rubrics): dimensions and their levels, versioned per district."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import NEVER_REUSE_IDS, Base, str_enum, utcnow


class FrameworkStatus(enum.StrEnum):
    """Where a framework version is in its life."""

    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"  # an older published version, kept for the feedback made with it


def new_family() -> str:
    """Return the key that ties the versions of one framework together."""
    return uuid.uuid4().hex


class Framework(Base):
    """One version of a district's framework; published versions are never changed in place."""

    __tablename__ = "framework"
    __table_args__ = (UniqueConstraint("family", "version"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    family: Mapped[str] = mapped_column(String(32), default=new_family, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[FrameworkStatus] = mapped_column(
        str_enum(FrameworkStatus), default=FrameworkStatus.DRAFT
    )
    builtin: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]

    dimensions: Mapped[list[RubricDimension]] = relationship(
        back_populates="framework",
        order_by="RubricDimension.position",
        cascade="all, delete-orphan",
    )


class RubricDimension(Base):
    """One dimension of a framework, such as Student engagement."""

    __tablename__ = "rubric_dimension"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("framework.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    colour: Mapped[str] = mapped_column(String(7))

    framework: Mapped[Framework] = relationship(back_populates="dimensions")
    levels: Mapped[list[RubricLevel]] = relationship(
        back_populates="dimension", order_by="RubricLevel.score", cascade="all, delete-orphan"
    )


class RubricLevel(Base):
    """One level of a dimension: a score, a label and what it looks like in a classroom."""

    __tablename__ = "rubric_level"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension_id: Mapped[int] = mapped_column(
        ForeignKey("rubric_dimension.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(80))
    descriptor: Mapped[str] = mapped_column(Text, default="")

    dimension: Mapped[RubricDimension] = relationship(back_populates="levels")
