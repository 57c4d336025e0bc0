"""Make the demo district's lesson videos: ffmpeg test patterns that go through the pipeline."""

from __future__ import annotations

import tempfile
from pathlib import Path

from celery import shared_task
from flask import current_app

from app.extensions import db
from app.models import Video
from app.services import processing
from app.storage import storage


@shared_task(name="loupe.demo.make_lesson", ignore_result=True, time_limit=600)
def make_lesson(video_id: int, seconds: int) -> None:
    """Generate a demo lesson's source (test pattern, tone, burnt-in timecode) and process it."""
    from media_pipeline.synth import make_demo_lesson

    if db.session.get(Video, video_id) is None or storage().source_path(video_id) is not None:
        return  # deleted, or made already by an earlier delivery of this job
    with tempfile.TemporaryDirectory(dir=current_app.config["DATA_DIR"]) as tmp:
        clip = Path(tmp) / "lesson.mp4"
        make_demo_lesson(clip, duration=seconds)
        storage().store_source(video_id, clip, ".mp4")
    processing.enqueue(video_id)
