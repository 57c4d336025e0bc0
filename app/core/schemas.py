"""The shapes every feature's JSON API shares: a strict request body and a plain acknowledgement."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A request body: unknown fields are refused, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OkOut(BaseModel):
    ok: bool = True
