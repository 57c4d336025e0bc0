"""Resumable uploads in progress (the tus protocol)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.db import Base, utcnow


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
