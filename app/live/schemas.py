"""The shapes of live lessons in the API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class LiveOut(BaseModel):
    id: int
    video_id: int | None
    title: str | None
    owner: dict[str, Any]
    status: str
    started_at: str
    ended_at: str | None
    lesson_ms: int = Field(
        description="Milliseconds of lesson when answered, by the server's clock (the length "
        "once ended): a page's lesson clock, so live feedback lands at the recording's moment"
    )
    watch_url: str
