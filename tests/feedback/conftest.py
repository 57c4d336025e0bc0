"""Fixtures shared by the app tests: a lesson with its people and a published framework."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask

from app.accounts.models import Organization, User
from app.core.extensions import db
from app.frameworks import service as frameworks
from app.frameworks.models import Framework
from app.lessons import service as videos
from app.lessons.models import Video
from tests.conftest import SPEC


@dataclass
class Lesson:
    teacher: User
    coach: User  # shared for comment
    viewer: User  # shared for view
    outsider: User  # another district
    video: Video
    framework: Framework


@pytest.fixture
def lesson(
    any_db_app: Flask,
    make_user: Callable[..., User],
    make_video: Callable[..., Video],
    district: Callable[..., Organization],
) -> Lesson:
    """A two-minute lesson shared with a coach (comment) and a viewer, on SQLite and PostgreSQL."""
    teacher = make_user("teacher", name="Ana López")
    coach = make_user("coach", name="Maya Chen")
    viewer = make_user("coach", name="Dévora Núñez")
    outsider = make_user("coach", name="Far Away", org=district("elsewhere"))
    video = make_video(teacher, title="Fractions: équivalence", recorded_at=date(2025, 3, 4))
    video.duration_s = 120.0
    db.session.commit()
    videos.share_video(teacher, video.id, coach.email, "comment")
    videos.share_video(teacher, video.id, viewer.email, "view")
    framework = frameworks.create_framework(coach, frameworks.parse_spec(SPEC), publish=True)
    return Lesson(teacher, coach, viewer, outsider, video, framework)
