"""The shapes of frameworks: the spec people write, import and export, and the API's answers."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.frameworks.models import Framework

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class LevelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    score: int = Field(ge=0, le=100)
    label: str = Field(min_length=1, max_length=80)
    descriptor: str = Field(default="", max_length=2000)


class DimensionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    colour: str = "#4f46e5"
    levels: list[LevelSpec] = Field(default_factory=list, max_length=10)

    @field_validator("colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not COLOUR.match(value):
            raise ValueError("colour must look like #1a2b3c")
        return value.lower()

    @model_validator(mode="after")
    def _distinct_scores(self) -> DimensionSpec:
        scores = [level.score for level in self.levels]
        if len(scores) != len(set(scores)):
            raise ValueError("each level of a dimension needs its own score")
        return self


class FrameworkSpec(BaseModel):
    """A framework as imported, exported and edited."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    dimensions: list[DimensionSpec] = Field(min_length=1, max_length=20)


class LevelOut(BaseModel):
    id: int
    score: int
    label: str
    descriptor: str


class DimensionOut(BaseModel):
    id: int
    position: int
    name: str
    description: str
    colour: str
    levels: list[LevelOut]


class FrameworkOut(BaseModel):
    id: int
    family: str
    version: int
    name: str
    description: str
    status: str
    builtin: str | None
    dimensions: list[DimensionOut]

    @classmethod
    def of(cls, framework: Framework) -> FrameworkOut:
        return cls(
            id=framework.id,
            family=framework.family,
            version=framework.version,
            name=framework.name,
            description=framework.description,
            status=framework.status.value,
            builtin=framework.builtin,
            dimensions=[
                DimensionOut(
                    id=d.id,
                    position=d.position,
                    name=d.name,
                    description=d.description,
                    colour=d.colour,
                    levels=[
                        LevelOut(id=lv.id, score=lv.score, label=lv.label, descriptor=lv.descriptor)
                        for lv in d.levels
                    ],
                )
                for d in framework.dimensions
            ],
        )
