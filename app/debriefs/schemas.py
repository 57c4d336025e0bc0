"""The shapes of debriefs the API reads: a new debrief, a shared note and a change to one."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

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
