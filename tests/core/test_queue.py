"""Jobs are enqueued by task name: the task the name finds runs, eagerly when configured."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from celery.exceptions import NotRegistered
from flask import Flask

from app.accounts.models import User
from app.core import queue
from app.core.extensions import db
from app.debriefs import recording
from app.lessons import processing
from app.lessons.models import Video, VideoStatus
from app.live import service as live


def test_every_task_a_service_names_is_declared(app: Flask) -> None:
    tasks = app.extensions["celery"].tasks
    for name in (processing.PROCESS_VIDEO, recording.COMPOSE_RECORDING, live.MAKE_LESSON_VIDEO):
        assert name in tasks


def test_an_eager_job_runs_when_enqueued_by_name(
    app: Flask, make_user: Callable[..., User], make_video: Callable[..., Video]
) -> None:
    video = make_video(make_user("teacher"))  # nothing was uploaded for it
    app.extensions["celery"].conf.task_always_eager = True
    queue.enqueue(processing.PROCESS_VIDEO, video.id, False)
    db.session.refresh(video)
    assert video.status == VideoStatus.FAILED
    assert video.failure_reason == "The uploaded file is missing; upload the lesson again."


def test_an_unknown_task_name_is_refused(app: Flask) -> None:
    with pytest.raises(NotRegistered):
        queue.enqueue("loupe.no_such_job", 1)
