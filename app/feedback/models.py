"""Timestamped feedback on a lesson: annotations (a moment or a range) and their replies."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.db import NEVER_REUSE_IDS, Base, str_enum, utcnow


class AnnotationKind(enum.StrEnum):
    """What a piece of feedback is."""

    STRENGTH = "strength"
    QUESTION = "question"
    SUGGESTION = "suggestion"
    NOTE = "note"


class Visibility(enum.StrEnum):
    """Who sees an annotation besides its author."""

    SHARED = "shared"  # everyone who may watch the video
    PRIVATE = "private"  # its author only: a coach's own note


class Annotation(Base):
    """Feedback tied to a moment (end_ms empty) or a range of a video.

    The framework, dimension and level are copied when tagged, so a later version of the
    framework never rewrites what the feedback said. A deleted annotation stays as an empty
    tombstone so that clients catching up learn it is gone.
    """

    __tablename__ = "annotation"
    __table_args__ = (Index("ix_annotation_video_seq", "video_id", "seq"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("video.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # Set on imported feedback only: the writer's name as the document said. The importer is
    # the author; this name is shown only as text in the "imported" mark, never as an author.
    imported_author_name: Mapped[str | None] = mapped_column(String(200))
    # The video's change counter when this annotation or its thread last changed.
    seq: Mapped[int] = mapped_column(BigInteger)
    start_ms: Mapped[int] = mapped_column(Integer)
    end_ms: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[AnnotationKind] = mapped_column(str_enum(AnnotationKind))
    visibility: Mapped[Visibility] = mapped_column(str_enum(Visibility))
    # Was it ever visible to others? Then its removal must reach them too.
    ever_shared: Mapped[bool] = mapped_column(Boolean, default=False)

    framework_id: Mapped[int | None] = mapped_column(
        ForeignKey("framework.id", ondelete="SET NULL")
    )
    dimension_id: Mapped[int | None] = mapped_column(
        ForeignKey("rubric_dimension.id", ondelete="SET NULL")
    )
    level_id: Mapped[int | None] = mapped_column(ForeignKey("rubric_level.id", ondelete="SET NULL"))
    framework_name: Mapped[str | None] = mapped_column(String(200))
    framework_version: Mapped[int | None] = mapped_column(Integer)
    dimension_name: Mapped[str | None] = mapped_column(String(120))
    dimension_colour: Mapped[str | None] = mapped_column(String(7))
    level_score: Mapped[int | None] = mapped_column(Integer)
    level_label: Mapped[str | None] = mapped_column(String(80))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    author: Mapped[User] = relationship()
    replies: Mapped[list[AnnotationReply]] = relationship(
        back_populates="annotation",
        order_by="AnnotationReply.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class AnnotationReply(Base):
    """One reply in an annotation's thread."""

    __tablename__ = "annotation_reply"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotation.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    imported_author_name: Mapped[str | None] = mapped_column(String(200))  # as on Annotation
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]

    annotation: Mapped[Annotation] = relationship(back_populates="replies")
    author: Mapped[User] = relationship()
