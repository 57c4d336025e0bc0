"""Turn a recorded debrief into a lesson video for its participants."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from celery import shared_task
from flask import current_app

from app.accounts.models import User
from app.core.extensions import db
from app.debriefs import recording
from app.debriefs.models import Debrief, RecordingState
from app.lessons import processing
from app.lessons import service as videos
from app.lessons.jobs import MEDIA_QUEUE, unexpected
from app.rtc import folders

log = logging.getLogger("loupe.jobs.debriefs")


@shared_task(
    name=recording.COMPOSE_RECORDING,
    ignore_result=True,
    queue=MEDIA_QUEUE,
    acks_late=True,
    time_limit=3 * 3600,
)
def compose_recording(debrief_id: int, manifest: str | None) -> None:
    """Compose the participants side by side, make it a video, share it with them."""
    from media_pipeline.compose import Participant, Track, compose
    from media_pipeline.errors import PipelineError

    where = folders.folder(current_app.config["DATA_DIR"], "debrief", debrief_id)
    result = folders.read_result(where, manifest)
    debrief = db.session.get(Debrief, debrief_id)
    if debrief is None:
        folders.remove(current_app.config["DATA_DIR"], "debrief", debrief_id)
        return
    if debrief.recording != RecordingState.PROCESSING:
        recording.discard_recording(debrief_id, result)  # composed by an earlier delivery
        return
    try:
        names = {p.user_id: p.user.name for p in debrief.participants}
        # One tile a person: with several connections (a reload), the longest recording of each.
        best: dict[tuple[int, str], dict[str, Any]] = {}
        for track in result.get("tracks", []):
            key = (int(track["user_id"]), str(track["kind"]))
            if key not in best or track["frames"] > best[key]["frames"]:
                best[key] = track
        people = []
        for user_id in sorted({uid for uid, _ in best}):
            video, audio = best.get((user_id, "video")), best.get((user_id, "audio"))
            people.append(
                Participant(
                    names.get(user_id, "Participant"),
                    video=Track(Path(video["path"]), float(video["offset_s"])) if video else None,
                    audio=Track(Path(audio["path"]), float(audio["offset_s"])) if audio else None,
                )
            )
        host = db.session.get(User, debrief.created_by_id)
        assert host is not None
        with tempfile.TemporaryDirectory(dir=current_app.config["DATA_DIR"]) as tmp:
            out = compose(people, float(result["duration_s"]), Path(tmp) / "debrief.mp4")
            day = (debrief.started_at or debrief.created_at).strftime("%b %-d, %Y")
            made = processing.ingest(
                host, out, title=f"Debrief: {debrief.video_title} ({day})", original_name="x.mp4"
            )
    except Exception as exc:
        # Any error, not only the pipeline's, ends the job visibly: never left "processing".
        log.warning("debrief %s recording failed: %s", debrief_id, exc, exc_info=True)
        db.session.rollback()
        debrief.recording = RecordingState.FAILED
        debrief.recording_error = exc.reason if isinstance(exc, PipelineError) else unexpected(exc)
        db.session.commit()
        recording.announce_recording(debrief)
        recording.discard_recording(debrief_id, result)  # refused for good: no raw media kept
        return
    for participant in debrief.participants:
        if participant.user_id != host.id and participant.user.active:
            videos.share_video(host, made.id, participant.user.email, "view")
    debrief.recording_video_id = made.id
    debrief.recording = RecordingState.DONE
    db.session.commit()
    recording.announce_recording(debrief)
    # The per-track files are now in the composed video; nothing else needs them.
    recording.discard_recording(debrief_id, result)
