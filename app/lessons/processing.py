"""A video's way through the media pipeline: queue, claim, heartbeat, finish, fail, retry.

Jobs are idempotent and claimed with a heartbeat lease: a worker that dies mid-transcode
stops beating, and the sweeper queues the video again, so nothing stays stuck whatever the
broker does with unacknowledged messages.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.accounts.models import User
from app.core import audit, queue
from app.core.db import utcnow
from app.core.errors import Conflict
from app.core.extensions import db
from app.core.policy import VideoAction
from app.core.realtime import publish, user_room
from app.core.storage import storage
from app.lessons import service as videos
from app.lessons.models import Video, VideoStatus
from app.lessons.rooms import lesson_rooms, publish_to_lesson

PROCESS_VIDEO = "loupe.media.process_video"  # the task of lessons/jobs.py


def _announce_status(video: Video) -> None:
    data = {
        "video_id": video.id,
        "status": video.status.value,
        "failure_reason": video.failure_reason,
        "duration_s": video.duration_s,
    }
    publish("video.status", data, room=[user_room(video.owner_id), *lesson_rooms(video)])


def enqueue(video_id: int, *, force: bool = False) -> None:
    """Queue the processing job of a video (after the caller committed)."""
    queue.enqueue(PROCESS_VIDEO, video_id, force)


def ingest(
    owner: User,
    source: Path,
    *,
    title: str,
    original_name: str = "",
    subject: str | None = None,
    grade: str | None = None,
    recorded_at: date | None = None,
    source_bytes: int | None = None,
    source_sha256: str | None = None,
) -> Video:
    """Create a video from an uploaded file, keep the file and queue its processing."""
    size = source.stat().st_size if source_bytes is None else source_bytes
    video = videos.create_video(
        owner, title=title, subject=subject, grade=grade, recorded_at=recorded_at
    )
    storage().store_source(video.id, source, Path(original_name).suffix)
    video.source_bytes = size
    video.source_sha256 = source_sha256
    db.session.commit()
    enqueue(video.id)
    return video


def source_digest(path: Path) -> str:
    """Return the sha256 of a file, read a megabyte at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def record_source_digest(video_id: int, path: Path) -> None:
    """Remember the hash of a lesson's original, so the same file is not imported twice."""
    video = db.session.get(Video, video_id)
    if video is not None and video.source_sha256 is None:
        video.source_sha256 = source_digest(path)
        video.source_bytes = path.stat().st_size
        db.session.commit()


def find_by_digest(owner: User, digest: str) -> Video | None:
    """Return the owner's lesson whose original has this sha256."""
    return db.session.scalars(
        select(Video).where(Video.owner_id == owner.id, Video.source_sha256 == digest)
    ).first()


def _heartbeat_is_fresh(video: Video) -> bool:
    beat = video.processing.get("heartbeat_at")
    if not isinstance(beat, (int, float)):
        return False
    stall = float(current_app.config["STALLED_JOB_SECONDS"])
    return utcnow().timestamp() - beat < stall


def claim(video_id: int, job_id: str, *, force: bool = False) -> Video | None:
    """Take the video for this job; None when there is nothing to do or another job has it."""
    video = db.session.get(Video, video_id, with_for_update=True)
    if video is None:
        return None
    if video.status == VideoStatus.READY and not force:
        db.session.rollback()
        return None  # a redelivered job after success: the outputs are there already
    running = video.processing.get("job_id")
    if video.status == VideoStatus.PROCESSING and running != job_id and _heartbeat_is_fresh(video):
        db.session.rollback()
        return None  # another worker is on it and alive
    attempt = int(video.processing.get("attempt", 0)) + 1
    if attempt > int(current_app.config["MAX_JOB_ATTEMPTS"]):
        _give_up(video)
        return None
    video.status = VideoStatus.PROCESSING
    video.failure_reason = None
    video.processing = {
        "job_id": job_id,
        "heartbeat_at": utcnow().timestamp(),
        "stage": "queued",
        "percent": 0.0,
        "playable": False,
        "attempt": attempt,
        "last_error": video.processing.get("last_error"),
    }
    db.session.commit()
    _announce_status(video)
    return video


def _give_up(video: Video) -> None:
    """Fail a video whose every allowed attempt failed or stalled."""
    tries = int(current_app.config["MAX_JOB_ATTEMPTS"])
    last = video.processing.get("last_error") or "the processing job stopped responding."
    _mark_failed(video, f"Processing failed {tries} times; the last time: {last}")


def _held_by(video_id: int, job_id: str) -> Video | None:
    """Return the video if this job still holds it (not deleted, not taken over)."""
    video = db.session.get(Video, video_id)
    if video is None or video.processing.get("job_id") != job_id:
        db.session.rollback()
        return None
    return video


def heartbeat(video_id: int, job_id: str, progress: dict[str, Any]) -> bool:
    """Record progress; answer False when the job should stop (video deleted or re-claimed)."""
    video = _held_by(video_id, job_id)
    if video is None:
        return False
    first_playable = progress.get("playable") and not video.processing.get("playable")
    video.processing = {**video.processing, **progress, "heartbeat_at": utcnow().timestamp()}
    db.session.commit()
    event = {"video_id": video_id, **progress}
    publish("video.progress", event, room=[user_room(video.owner_id), *lesson_rooms(video)])
    if first_playable:
        publish_to_lesson("video.playable", {"video_id": video_id}, video)
    return True


def finish(video_id: int, job_id: str, manifest: dict[str, Any]) -> Video | None:
    """Mark the video ready with what the pipeline produced."""
    video = _held_by(video_id, job_id)
    if video is None:
        return None
    video.status = VideoStatus.READY
    video.duration_s = manifest.get("duration_s")
    video.processing = {
        "job_id": job_id,
        "heartbeat_at": utcnow().timestamp(),
        "stage": "done",
        "percent": 100.0,
        "playable": True,
        "attempt": video.processing.get("attempt", 1),
        "manifest": {
            "pipeline_version": manifest.get("pipeline_version"),
            "renditions": manifest.get("renditions"),
            "timings": manifest.get("timings"),
        },
    }
    _record_outcome(video, "video.processed")
    return video


def fail(video_id: int, job_id: str, reason: str) -> Video | None:
    """Mark the video failed with a reason its owner can read."""
    video = _held_by(video_id, job_id)
    if video is None:
        return None
    _mark_failed(video, reason)
    return video


def _mark_failed(video: Video, reason: str) -> None:
    video.status = VideoStatus.FAILED
    video.failure_reason = reason
    # The pipeline took back any preview it had published, so nothing plays any more.
    video.processing = {
        **video.processing,
        "stage": "failed",
        "heartbeat_at": None,
        "playable": False,
        "last_error": reason,
    }
    _record_outcome(video, "video.processing_failed", reason=reason)


def attempt_failed(video_id: int, job_id: str, reason: str, *, transient: bool) -> float | None:
    """End a failed attempt: return the seconds to wait before the next, or None (failed)."""
    video = _held_by(video_id, job_id)
    if video is None:
        return None
    attempt = int(video.processing.get("attempt", 1))
    if not transient or attempt >= int(current_app.config["MAX_JOB_ATTEMPTS"]):
        _mark_failed(video, reason)
        return None
    delay: float = float(current_app.config["RETRY_BACKOFF_SECONDS"]) * 2 ** (attempt - 1)
    video.failure_reason = reason
    video.processing = {
        **video.processing,
        "stage": "retrying",
        "playable": False,
        "last_error": reason,
        # Fresh until the retry is due, so the sweeper does not queue a second job meanwhile.
        "heartbeat_at": utcnow().timestamp() + delay,
    }
    db.session.commit()
    _announce_status(video)
    return delay


def _record_outcome(video: Video, action: str, **detail: Any) -> None:
    audit.record(
        action,
        actor=None,
        object_type="video",
        object_id=video.id,
        organization_id=video.organization_id,
        **detail,
    )
    db.session.commit()
    _announce_status(video)


def request_processing(user: User, video_id: int) -> Video:
    """Run the pipeline again for the owner (the retry button on a failed video)."""
    return reprocess(videos.get_video(user, video_id, VideoAction.EDIT), actor=user)


def reprocess(video: Video, *, actor: User | None) -> Video:
    """Queue a video's processing again from its original upload."""
    if video.status == VideoStatus.PROCESSING and _heartbeat_is_fresh(video):
        raise Conflict("This lesson is being processed right now.")
    if storage().source_path(video.id) is None:
        raise Conflict("The original upload of this lesson is gone; upload it again.")
    video.status = VideoStatus.UPLOADED
    video.failure_reason = None
    video.processing = {"attempt": 0}  # asked for by a person: a fresh set of attempts
    audit.record(
        "video.reprocess_requested",
        actor=actor,
        object_type="video",
        object_id=video.id,
        organization_id=video.organization_id,
    )
    db.session.commit()
    _announce_status(video)
    enqueue(video.id, force=True)
    return video


def sweep() -> list[int]:
    """Fail stalled videos that used every attempt; return the others, to be queued again."""
    again = []
    for video_id in stalled_video_ids():
        video = db.session.get(Video, video_id, with_for_update=True)
        if video is None or _heartbeat_is_fresh(video):
            db.session.rollback()
            continue
        if int(video.processing.get("attempt", 0)) >= int(current_app.config["MAX_JOB_ATTEMPTS"]):
            _give_up(video)
        else:
            db.session.rollback()
            again.append(video_id)
    return again


def stalled_video_ids() -> list[int]:
    """Return videos whose job died (processing without a heartbeat) or was never queued."""
    stall = current_app.config["STALLED_JOB_SECONDS"]
    cutoff = utcnow() - timedelta(seconds=stall)
    candidates = db.session.scalars(
        select(Video).where(
            Video.status.in_([VideoStatus.PROCESSING, VideoStatus.UPLOADED]),
            Video.updated_at < cutoff,
        )
    )
    return [
        v.id
        for v in candidates
        if not _heartbeat_is_fresh(v) and storage().source_path(v.id) is not None
    ]
