"""Make the demo district's lesson videos: ffmpeg test patterns that go through the pipeline."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from celery import shared_task
from flask import current_app

from app.core.extensions import db
from app.core.storage import storage
from app.lessons import processing
from app.lessons.jobs import unexpected
from app.lessons.models import Video, VideoStatus

log = logging.getLogger("loupe.jobs.demo")


@shared_task(name="loupe.demo.make_lesson", ignore_result=True, time_limit=600)
def make_lesson(video_id: int, seconds: int) -> None:
    """Generate a demo lesson's source (test pattern, tone, burnt-in timecode) and process it."""
    from media_pipeline.errors import PipelineError
    from media_pipeline.synth import make_demo_lesson

    if db.session.get(Video, video_id) is None or storage().source_path(video_id) is not None:
        return  # deleted, or made already by an earlier delivery of this job
    try:
        with tempfile.TemporaryDirectory(dir=current_app.config["DATA_DIR"]) as tmp:
            clip = Path(tmp) / "lesson.mp4"
            make_demo_lesson(clip, duration=seconds)
            storage().store_source(video_id, clip, ".mp4")
    except Exception as exc:
        # The demo lesson says why it has no video instead of waiting for one forever.
        log.warning("demo lesson %s could not be made: %s", video_id, exc, exc_info=True)
        db.session.rollback()
        video = db.session.get(Video, video_id)
        if video is not None:
            video.status = VideoStatus.FAILED
            video.failure_reason = exc.reason if isinstance(exc, PipelineError) else unexpected(exc)
            db.session.commit()
        return
    processing.enqueue(video_id)
