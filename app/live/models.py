"""Live lessons: a teacher streams (WHIP) while coaches watch (WHEP) and annotate."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.db import NEVER_REUSE_IDS, Base, str_enum, utcnow
from app.lessons.models import Video


class LiveStatus(enum.StrEnum):
    """Where a live lesson is."""

    LIVE = "live"
    INTERRUPTED = "interrupted"  # the connection dropped; it may resume within the grace period
    ENDED = "ended"  # the recording is being made into the lesson video
    FAILED = "failed"


def new_resource_key() -> str:
    """Return the unguessable part of a stream's WHIP resource URL."""
    return secrets.token_urlsafe(18)


class LiveStream(Base):
    """One live lesson. Its Video exists from the start, so feedback given live is stored at
    the lesson time it was given and sits at that moment of the recording."""

    __tablename__ = "live_stream"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    video_id: Mapped[int | None] = mapped_column(
        ForeignKey("video.id", ondelete="SET NULL"), index=True
    )
    resource_key: Mapped[str] = mapped_column(String(32), unique=True, default=new_resource_key)
    status: Mapped[LiveStatus] = mapped_column(str_enum(LiveStatus), default=LiveStatus.LIVE)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(Text)

    owner: Mapped[User] = relationship()
    video: Mapped[Video | None] = relationship()
