"""Live lessons in the worker: events from the gateway, and the recording made a lesson video."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from celery import shared_task
from flask import current_app

from app.core.extensions import db
from app.core.storage import storage
from app.debriefs import recording
from app.lessons import processing
from app.lessons.jobs import MEDIA_QUEUE, unexpected
from app.lessons.models import Video, VideoStatus
from app.live import service as live
from app.live.models import LiveStatus, LiveStream
from app.rtc import folders

log = logging.getLogger("loupe.jobs.live")


@shared_task(name="loupe.live.stream_event", ignore_result=True, acks_late=True, time_limit=60)
def stream_event(stream_id: int, event: str, manifest: str | None = None) -> None:
    """Apply what the gateway saw: a publisher dropped, came back, or the grace period ended."""
    if event == "interrupted":
        live.interrupted(stream_id)
    elif event == "resumed":
        live.resumed(stream_id)
    elif event == "ended":
        live.recorded(stream_id, manifest)


@shared_task(
    name=live.MAKE_LESSON_VIDEO,
    ignore_result=True,
    queue=MEDIA_QUEUE,
    acks_late=True,
    time_limit=6 * 3600,
)
def make_lesson_video(stream_id: int, manifest: str | None) -> None:
    """Lay the stream's segments on one timeline and send the result through the pipeline."""
    from media_pipeline.compose import Segment, Track, merge
    from media_pipeline.errors import PipelineError

    data_dir = current_app.config["DATA_DIR"]
    recording = folders.read_result(folders.folder(data_dir, "live", stream_id), manifest)
    stream = db.session.get(LiveStream, stream_id)
    video = db.session.get(Video, stream.video_id) if stream and stream.video_id else None
    if stream is None or video is None or storage().source_path(video.id) is not None:
        # Deleted (the classroom's raw recording must not outlive its lesson), or made
        # already by an earlier delivery of this job.
        folders.remove(data_dir, "live", stream_id)
        return
    try:
        parts: dict[int, dict[str, Track]] = {}
        size: tuple[int, int] | None = None
        for track in recording.get("tracks", []):
            parts.setdefault(int(track["segment"]), {})[track["kind"]] = Track(
                Path(track["path"]), float(track["offset_s"])
            )
            if track["kind"] == "video" and track.get("size") and size is None:
                size = (int(track["size"][0]), int(track["size"][1]))
        segments = [
            Segment(video=p.get("video"), audio=p.get("audio")) for _, p in sorted(parts.items())
        ]
        with tempfile.TemporaryDirectory(dir=current_app.config["DATA_DIR"]) as tmp:
            out = merge(
                segments,
                float(recording.get("duration_s", 0)),
                size or (1280, 720),
                Path(tmp) / "l.mp4",
            )
            stored = storage().store_source(video.id, out, ".mp4")
            video.source_bytes = stored.stat().st_size
    except Exception as exc:
        # Any error, not only the pipeline's, ends the job visibly: never left "processing".
        log.warning("live %s: no recording: %s", stream_id, exc, exc_info=True)
        db.session.rollback()
        reason = exc.reason if isinstance(exc, PipelineError) else unexpected(exc)
        stream.status = LiveStatus.FAILED
        stream.failure_reason = reason
        video.status = VideoStatus.FAILED
        video.failure_reason = f"The live lesson's recording could not be used: {reason}"
        db.session.commit()
        folders.remove(data_dir, "live", stream_id)  # refused for good: keep no raw media
        return
    db.session.commit()
    processing.enqueue(video.id)
    folders.remove(data_dir, "live", stream_id)  # now in the lesson's source


@shared_task(name="loupe.rtc.sweep_recordings", ignore_result=True, time_limit=600)
def sweep_recordings() -> int:
    """Remove recording folders of live lessons and debriefs that nobody will use any more."""
    removed = 0
    data_dir = current_app.config["DATA_DIR"]
    for kind, owner_id, path in folders.existing(data_dir):
        kept = live.recording_kept if kind == "live" else recording.recording_kept
        if not kept(owner_id, folders.quiet_s(path)):
            log.info("removing the leftover recording %s", path)
            folders.remove(data_dir, kind, owner_id)
            removed += 1
    return removed
