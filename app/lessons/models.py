"""Lesson videos, who they are shared with, and their resumable uploads in progress (tus)."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.db import NEVER_REUSE_IDS, Base, str_enum, utcnow


class VideoStatus(enum.StrEnum):
    """Where a video is on its way to playback."""

    UPLOADED = "uploaded"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class SharePermission(enum.StrEnum):
    """What a person a video is shared with may do."""

    VIEW = "view"
    COMMENT = "comment"


class Video(Base):
    """A recorded lesson, private to its owner until shared."""

    __tablename__ = "video"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(100))
    grade: Mapped[str | None] = mapped_column(String(20))
    recorded_at: Mapped[date | None]
    status: Mapped[VideoStatus] = mapped_column(str_enum(VideoStatus), default=VideoStatus.UPLOADED)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[float | None] = mapped_column(Float)
    # The original upload: its size counts against the owner's quota; its hash finds duplicates.
    source_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    source_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    processing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The framework its feedback uses (any version of the family: the current one is offered).
    framework_id: Mapped[int | None] = mapped_column(
        ForeignKey("framework.id", ondelete="SET NULL")
    )
    # Counts every change to the video's annotations; orders them for clients catching up.
    annotation_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()
    shares: Mapped[list[VideoShare]] = relationship(
        back_populates="video", cascade="all, delete-orphan", passive_deletes=True
    )


class VideoShare(Base):
    """A grant of view or comment access to one person; revoked grants stay as history."""

    __tablename__ = "video_share"
    __table_args__ = (
        Index("ix_video_share_grantee_active", "grantee_id", "revoked_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("video.id", ondelete="CASCADE"), index=True)
    grantee_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    permission: Mapped[SharePermission] = mapped_column(str_enum(SharePermission))
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    video: Mapped[Video] = relationship(back_populates="shares")
    grantee: Mapped[User] = relationship(foreign_keys=[grantee_id])
    granted_by: Mapped[User] = relationship(foreign_keys=[granted_by_id])


def new_upload_id() -> str:
    """Return an unguessable upload id (it is also the name of the file being written)."""
    return secrets.token_urlsafe(24)


class Upload(Base):
    """One file arriving in pieces; its bytes live in the uploads folder under its id."""

    __tablename__ = "upload"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_upload_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    # Upload-Metadata as sent (raw, for HEAD) and decoded (for the lesson's details).
    raw_metadata: Mapped[str | None] = mapped_column(String(4096))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    completed_at: Mapped[datetime | None]
    video_id: Mapped[int | None] = mapped_column(ForeignKey("video.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship()
