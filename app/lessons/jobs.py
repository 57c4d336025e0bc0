"""Lessons' jobs: process an upload through the media pipeline (and sweep stalled runs),
remove abandoned uploads, make the demo lessons. May use the lessons services and core.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from celery import Task, shared_task
from flask import current_app

from app.core.extensions import db
from app.core.storage import storage
from app.lessons import processing, uploads
from app.lessons.models import Video, VideoStatus

log = logging.getLogger("loupe.jobs.media")
MEDIA_QUEUE = "media"
HEARTBEAT_EVERY_S = 1.0  # progress reaches browsers within a second of ffmpeg reporting it


class ProgressReporter:
    """Forward pipeline progress to the database and browsers; stop the run if told to.

    The pipeline calls it from its own thread, so each report opens its own app context.
    """

    def __init__(self, video_id: int, job_id: str, cancel: threading.Event) -> None:
        self.video_id = video_id
        self.job_id = job_id
        self.cancel = cancel
        self.app = current_app._get_current_object()  # type: ignore[attr-defined]
        self.last_sent = 0.0
        self.playable = False

    def __call__(self, progress: Any) -> None:
        now = time.monotonic()
        became_playable = bool(progress.playable) and not self.playable
        if now - self.last_sent < HEARTBEAT_EVERY_S and not became_playable:
            return
        self.last_sent = now
        self.playable = self.playable or bool(progress.playable)
        report = {
            "stage": progress.stage,
            "percent": round(float(progress.percent), 1),
            "eta_s": None if progress.eta_s is None else round(float(progress.eta_s)),
            "playable": self.playable,
        }
        with self.app.app_context():
            if not processing.heartbeat(self.video_id, self.job_id, report):
                self.cancel.set()


def ffmpeg_threads() -> int:
    """Return the ffmpeg threads one job may use within the core budget."""
    config = current_app.config
    return max(1, int(config["CORE_BUDGET"]) // max(1, int(config["WORKER_CONCURRENCY"])))


@shared_task(
    bind=True,
    name=processing.PROCESS_VIDEO,
    queue=MEDIA_QUEUE,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # bounded by MAX_JOB_ATTEMPTS, counted on the video's row
    time_limit=5 * 3600,
    soft_time_limit=5 * 3600 - 300,
)
def process_video(self: Task, video_id: int, force: bool = False) -> None:
    """Turn a video's upload into playback files; safe to run again at any time."""
    from media_pipeline import PipelineError

    job_id = str(self.request.id or f"eager-{video_id}")
    video = processing.claim(video_id, job_id, force=force)
    if video is None:
        return
    cancel = threading.Event()
    try:
        manifest = _run_pipeline(video_id, job_id, cancel)
    except PipelineError as exc:
        if cancel.is_set():
            _forget_if_deleted(video_id)
            return
        delay = processing.attempt_failed(video_id, job_id, exc.reason, transient=exc.transient)
        if delay is not None:
            log.warning("video %s: transient failure, retrying: %s", video_id, exc.reason)
            raise self.retry(countdown=delay) from exc
        return
    except Exception as exc:
        # Anything else (a bug, the database, the disk) still ends the attempt visibly.
        log.exception("video %s: processing failed unexpectedly", video_id)
        db.session.rollback()
        processing.attempt_failed(video_id, job_id, unexpected(exc), transient=False)
        return
    if manifest is None:
        return
    if processing.finish(video_id, job_id, manifest) is None:
        _forget_if_deleted(video_id)


def unexpected(exc: BaseException) -> str:
    """Describe an error no code path expected, in words the video's owner can act on."""
    return (
        f"Processing stopped because of an error on the server ({type(exc).__name__}). "
        "Try again; if it keeps failing, tell your administrator."
    )


def _run_pipeline(video_id: int, job_id: str, cancel: threading.Event) -> dict[str, Any] | None:
    from media_pipeline import ProcessSettings, process

    source = storage().source_path(video_id)
    if source is None:
        processing.fail(video_id, job_id, "The uploaded file is missing; upload the lesson again.")
        return None
    processing.record_source_digest(video_id, source)
    settings = ProcessSettings(
        ladder=tuple(current_app.config["MEDIA_LADDER"]),
        threads=ffmpeg_threads(),
        loudnorm=bool(current_app.config["MEDIA_LOUDNORM"]),
    )
    reporter = ProgressReporter(video_id, job_id, cancel)
    manifest = process(
        source, storage().output_dir(video_id), settings, on_progress=reporter, cancel=cancel
    )
    return manifest.to_dict()


def _forget_if_deleted(video_id: int) -> None:
    # The video was deleted while its job ran: whatever the job published goes too.
    if db.session.get(Video, video_id) is None:
        storage().delete_video(video_id)


@shared_task(name="loupe.media.sweep", ignore_result=True, time_limit=120)
def sweep_stalled_jobs() -> None:
    """Queue again every video whose processing job died or was lost (while attempts remain)."""
    for video_id in processing.sweep():
        log.warning("video %s: processing stalled or lost, queueing it again", video_id)
        process_video.delay(video_id)


@shared_task(name="loupe.uploads.remove_expired", ignore_result=True, time_limit=600)
def remove_expired_uploads() -> int:
    """Delete the bytes of uploads abandoned past their expiry."""
    removed = uploads.remove_expired()
    if removed:
        log.info("removed %d abandoned uploads", removed)
    return removed


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
