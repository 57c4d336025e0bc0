"""The shapes of lessons and their shares in the JSON API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.accounts.models import User
from app.accounts.schemas import PersonOut
from app.core import policy
from app.core.numbers import Id
from app.core.schemas import Strict
from app.lessons.models import Video, VideoShare, VideoStatus


class MediaOut(BaseModel):
    hls: str
    mp4: str
    poster: str


class ProgressOut(BaseModel):
    stage: str
    percent: float
    eta_s: float | None = None
    playable: bool = False


class VideoOut(BaseModel):
    id: int
    title: str
    subject: str | None
    grade: str | None
    recorded_at: date | None
    status: Literal["uploaded", "processing", "ready", "failed"]
    failure_reason: str | None
    duration_s: float | None
    owner: PersonOut
    created_at: datetime
    is_owner: bool
    permissions: list[str] = Field(
        description="What the caller may do: view, download, comment, edit, share, delete"
    )
    framework_id: int | None = Field(
        None, description="The framework the owner chose for this lesson's feedback, if any"
    )
    media: MediaOut | None = Field(None, description="Set once the lesson can be played")
    progress: ProgressOut | None = Field(None, description="Set while the lesson is processed")

    @classmethod
    def of(cls, video: Video, viewer: User) -> VideoOut:
        media = None
        playable = bool(video.processing.get("playable"))
        progress = None
        if video.status == VideoStatus.PROCESSING:
            progress = ProgressOut(
                stage=str(video.processing.get("stage", "queued")),
                percent=float(video.processing.get("percent", 0.0)),
                eta_s=video.processing.get("eta_s"),
                playable=playable,
            )
        if video.status == VideoStatus.READY or playable:
            base = f"/media/{video.id}/"
            media = MediaOut(
                hls=base + "hls/master.m3u8", mp4=base + "video.mp4", poster=base + "poster.jpg"
            )
        return cls(
            id=video.id,
            title=video.title,
            subject=video.subject,
            grade=video.grade,
            recorded_at=video.recorded_at,
            status=video.status.value,
            failure_reason=video.failure_reason,
            duration_s=video.duration_s,
            owner=PersonOut(id=video.owner.id, name=video.owner.name),
            created_at=video.created_at,
            is_owner=video.owner_id == viewer.id,
            permissions=sorted(a.value for a in policy.video_actions(viewer, video)),
            framework_id=video.framework_id,
            media=media,
            progress=progress,
        )


class VideoPatch(Strict):
    """A change to a lesson's details: only the fields sent change."""

    title: str | None = Field(None, max_length=200)
    subject: str | None = Field(None, max_length=100)
    grade: str | None = Field(None, max_length=20)
    recorded_at: date | None = None
    framework_id: Id | None = Field(
        None, description="The framework its feedback uses; null returns to the default"
    )


class ShareIn(Strict):
    email: str = Field(max_length=254)
    permission: Literal["view", "comment"]


class GranteeOut(BaseModel):
    id: int
    name: str
    email: str
    role: str


class ShareOut(BaseModel):
    id: int
    video_id: int
    permission: Literal["view", "comment"]
    grantee: GranteeOut
    created_at: datetime

    @classmethod
    def of(cls, share: VideoShare) -> ShareOut:
        g = share.grantee
        return cls(
            id=share.id,
            video_id=share.video_id,
            permission=share.permission.value,
            grantee=GranteeOut(id=g.id, name=g.name, email=g.email, role=g.role.value),
            created_at=share.created_at,
        )


class UploadStatusOut(BaseModel):
    id: str
    length: int
    offset: int
    video_id: int | None
    expires_at: str
