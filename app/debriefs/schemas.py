"""The shapes of debriefs: request bodies, the API's answers and the Socket.IO payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core import richtext
from app.core.numbers import Count, Id
from app.debriefs.models import (
    NoteKind,
)

MAX_PEOPLE = 4


class DebriefIn(BaseModel):
    """A new debrief about a lesson."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    video_id: Id
    participants: list[str] = Field(
        default_factory=list,
        max_length=MAX_PEOPLE - 1,
        description="Emails of the others invited; the lesson's teacher is always invited",
    )
    scheduled_for: datetime | None = Field(
        None, description="When it is planned (ISO 8601 with a time zone); empty for now"
    )


class NoteIn(BaseModel):
    """A shared note or an action step."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: NoteKind = NoteKind.NOTE
    body: str = Field(max_length=richtext.MAX_BODY * 2)
    at_ms: Count | None = Field(None, description="The lesson time it is about")


class NotePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    done: bool


class PersonIn(BaseModel):
    id: int
    name: str


class ParticipantOut(PersonIn):
    role: Literal["host", "teacher", "guest"]


class LessonRef(BaseModel):
    id: int | None
    title: str


class NoteOut(BaseModel):
    id: int
    debrief_id: int
    kind: Literal["note", "action_step"]
    body: str
    body_html: str
    at_ms: int | None
    done: bool
    author: PersonIn
    created_at: datetime


class PlaybackOut(BaseModel):
    playing: bool
    position: float
    rate: float
    at: float


class RecordingOut(BaseModel):
    state: Literal["off", "asking", "on", "processing", "done", "failed"]
    consented: list[int] = Field(description="Ids of the people who agreed to this recording")
    waiting_for: list[int]
    video_id: int | None = Field(description="The recording, once it is a video")
    error: str | None


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agree: bool


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sdp: str = Field(max_length=64 * 1024)
    type: Literal["offer"] = "offer"


class AnswerOut(BaseModel):
    sdp: str
    type: Literal["answer"]
    session: str


class DebriefOut(BaseModel):
    id: int
    video: LessonRef
    status: Literal["scheduled", "live", "ended"]
    closed: bool
    scheduled_for: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    created_by: PersonIn
    participants: list[ParticipantOut]
    is_host: bool
    playback: PlaybackOut
    recording: RecordingOut
    notes: list[NoteOut]
    url: str


class IceServer(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceOut(BaseModel):
    ice_servers: list[IceServer]
    expires_at: int


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoomMessage(Strict):
    debrief_id: Id


class Description(Strict):
    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: str = Field(default="", max_length=64 * 1024)


class Candidate(Strict):
    candidate: str = Field(max_length=2048)
    sdpMid: str | None = Field(default=None, max_length=64)  # noqa: N815 - the WebRTC name
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=64)  # noqa: N815
    usernameFragment: str | None = Field(default=None, max_length=256)  # noqa: N815


class Signal(RoomMessage):
    to: str = Field(min_length=1, max_length=64)
    description: Description | None = None
    candidate: Candidate | None = None

    @model_validator(mode="after")
    def _one(self) -> Signal:
        if (self.description is None) == (self.candidate is None):
            raise ValueError("send a description or a candidate")
        return self


class Here(RoomMessage):
    to: str = Field(min_length=1, max_length=64)


class Playback(RoomMessage):
    playing: bool
    position: float = Field(ge=0, le=24 * 3600)
    rate: float = Field(default=1.0, ge=0.25, le=4)
