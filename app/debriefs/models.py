"""Live debriefs: a coach and a teacher meet over video and watch a lesson together."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.db import NEVER_REUSE_IDS, Base, str_enum, utcnow
from app.lessons.models import Video


class DebriefRole(enum.StrEnum):
    """Why someone is in a debrief."""

    HOST = "host"  # the coach who started it
    TEACHER = "teacher"  # whose lesson is discussed
    GUEST = "guest"  # a second coach or an observer


class RecordingState(enum.StrEnum):
    """Where a debrief's optional recording is."""

    OFF = "off"
    ASKING = "asking"  # the host asked; waiting for everyone's consent
    ON = "on"  # everyone consented: the gateway records
    PROCESSING = "processing"  # stopped; being composed and processed into a video
    DONE = "done"  # a video exists (see recording_video_id)
    FAILED = "failed"


class NoteKind(enum.StrEnum):
    """What a line written during a debrief is."""

    NOTE = "note"
    ACTION_STEP = "action_step"


class Debrief(Base):
    """One coaching conversation about one lesson: the unit of the coaching log."""

    __tablename__ = "debrief"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    # The log outlives a deleted lesson: the title is kept, the link is cleared.
    video_id: Mapped[int | None] = mapped_column(
        ForeignKey("video.id", ondelete="SET NULL"), index=True
    )
    video_title: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    scheduled_for: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # Ended for everyone by the host; people cannot join again.
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The shared player: {playing, position, rate, at (server time, epoch seconds), by}.
    playback: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recording: Mapped[RecordingState] = mapped_column(
        str_enum(RecordingState), default=RecordingState.OFF
    )
    recording_video_id: Mapped[int | None] = mapped_column(
        ForeignKey("video.id", ondelete="SET NULL")
    )
    recording_error: Mapped[str | None] = mapped_column(Text)

    video: Mapped[Video | None] = relationship(foreign_keys=[video_id])
    created_by: Mapped[User] = relationship()
    participants: Mapped[list[DebriefParticipant]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan", order_by="DebriefParticipant.id"
    )
    notes: Mapped[list[DebriefNote]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan", order_by="DebriefNote.id"
    )


class DebriefParticipant(Base):
    """A person invited to a debrief; only they may enter."""

    __tablename__ = "debrief_participant"
    __table_args__ = (UniqueConstraint("debrief_id", "user_id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debrief.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    role: Mapped[DebriefRole] = mapped_column(str_enum(DebriefRole))
    # Consent to the current recording request; asked again for every new request.
    consent: Mapped[bool] = mapped_column(Boolean, default=False)

    debrief: Mapped[Debrief] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()


class DebriefAttendance(Base):
    """One stretch of one person in the room (a reload makes a new one): the dosage record."""

    __tablename__ = "debrief_attendance"
    __table_args__ = (Index("ix_debrief_attendance_open", "debrief_id", "left_at"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debrief.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    sid: Mapped[str] = mapped_column(String(64), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]


class DebriefNote(Base):
    """A shared note or an action step written during a debrief, optionally at a lesson time."""

    __tablename__ = "debrief_note"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(
        ForeignKey("debrief.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[NoteKind] = mapped_column(str_enum(NoteKind))
    body: Mapped[str] = mapped_column(Text)
    at_ms: Mapped[int | None] = mapped_column(Integer)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    debrief: Mapped[Debrief] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()
