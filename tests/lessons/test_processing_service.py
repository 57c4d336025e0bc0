"""The processing state machine: claim with a lease, heartbeat, finish, fail, retry, sweep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from app.accounts.models import User
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden
from app.core.extensions import db
from app.core.storage import storage
from app.lessons import processing
from app.lessons import service as videos
from app.lessons.models import Video, VideoStatus
from tests.conftest import login


@pytest.fixture
def uploaded(
    app: Flask, make_user: Callable[..., User], make_video: Callable[..., Video], tmp_path: Path
) -> Video:
    video = make_video(make_user("teacher"))
    source = tmp_path / "upload.mov"
    source.write_bytes(b"not decoded here")
    storage().store_source(video.id, source, ".mov")
    return video


def test_claim_heartbeat_finish(uploaded: Video) -> None:
    assert processing.claim(uploaded.id, "job-1") is not None
    assert uploaded.status == VideoStatus.PROCESSING
    # A second delivery while the first job is alive leaves it alone.
    assert processing.claim(uploaded.id, "job-2") is None
    assert processing.heartbeat(
        uploaded.id, "job-1", {"stage": "encode", "percent": 40.0, "playable": True}
    )
    assert uploaded.processing["percent"] == 40.0
    assert not processing.heartbeat(uploaded.id, "job-2", {"stage": "encode", "percent": 1.0})
    done = processing.finish(
        uploaded.id, "job-1", {"duration_s": 12.5, "renditions": [], "pipeline_version": "t"}
    )
    assert done is not None
    assert done.status == VideoStatus.READY
    assert done.duration_s == 12.5
    # A redelivered job after success does nothing...
    assert processing.claim(uploaded.id, "job-3") is None
    # ...unless processing is asked for again.
    assert processing.claim(uploaded.id, "job-4", force=True) is not None


def test_a_dead_job_is_taken_over(uploaded: Video, app: Flask) -> None:
    processing.claim(uploaded.id, "job-1")
    uploaded.processing = {**uploaded.processing, "heartbeat_at": utcnow().timestamp() - 3600}
    db.session.commit()
    assert processing.claim(uploaded.id, "job-2") is not None
    assert uploaded.processing["job_id"] == "job-2"
    assert uploaded.processing["attempt"] == 2


def test_the_sweeper_finds_dead_and_lost_jobs(
    uploaded: Video, app: Flask, make_video: Callable[..., Video]
) -> None:
    app.config["STALLED_JOB_SECONDS"] = 0
    never_uploaded = make_video(uploaded.owner)
    processing.claim(uploaded.id, "job-1")
    uploaded.processing = {**uploaded.processing, "heartbeat_at": utcnow().timestamp() - 10}
    db.session.commit()
    assert processing.stalled_video_ids() == [uploaded.id]  # no source: nothing to run again
    app.config["STALLED_JOB_SECONDS"] = 300
    assert processing.stalled_video_ids() == []
    assert never_uploaded.id not in processing.stalled_video_ids()


def test_a_failed_attempt_never_leaves_the_lesson_playable(uploaded: Video, app: Flask) -> None:
    app.config["MAX_JOB_ATTEMPTS"] = 2
    app.config["RETRY_BACKOFF_SECONDS"] = 30
    processing.claim(uploaded.id, "job-1")
    processing.heartbeat(
        uploaded.id, "job-1", {"stage": "encode", "percent": 9.0, "playable": True}
    )
    # A transient failure: the pipeline took its preview back, and a retry is due later.
    delay = processing.attempt_failed(uploaded.id, "job-1", "Disk full.", transient=True)
    assert delay == 30
    assert uploaded.status == VideoStatus.PROCESSING
    assert uploaded.processing["playable"] is False
    assert uploaded.failure_reason == "Disk full."
    assert processing.stalled_video_ids() == []  # the sweeper waits for the retry
    # The retry is the last attempt allowed: its failure fails the lesson.
    assert processing.claim(uploaded.id, "job-1") is not None
    processing.heartbeat(
        uploaded.id, "job-1", {"stage": "encode", "percent": 9.0, "playable": True}
    )
    assert processing.attempt_failed(uploaded.id, "job-1", "Disk full.", transient=True) is None
    assert uploaded.status == VideoStatus.FAILED
    assert uploaded.failure_reason == "Disk full."
    assert uploaded.processing["playable"] is False


def test_a_job_that_keeps_dying_is_failed_not_queued_forever(uploaded: Video, app: Flask) -> None:
    app.config["MAX_JOB_ATTEMPTS"] = 2
    app.config["STALLED_JOB_SECONDS"] = 60

    def die() -> None:  # the worker is killed: its heartbeat just stops
        uploaded.processing = {**uploaded.processing, "heartbeat_at": utcnow().timestamp() - 3600}
        uploaded.updated_at = utcnow() - timedelta(hours=1)
        db.session.commit()

    processing.claim(uploaded.id, "job-1")
    die()
    assert processing.sweep() == [uploaded.id]
    processing.claim(uploaded.id, "job-2")
    die()
    assert processing.sweep() == []  # every attempt used: failed instead of queued again
    assert uploaded.status == VideoStatus.FAILED
    assert uploaded.failure_reason is not None
    assert "2 times" in uploaded.failure_reason
    assert "stopped responding" in uploaded.failure_reason
    # A redelivered message finds nothing to do; the owner's retry starts a fresh count.
    assert processing.claim(uploaded.id, "job-3") is None
    processing.request_processing(uploaded.owner, uploaded.id)
    assert processing.claim(uploaded.id, "job-4", force=True) is not None
    assert uploaded.processing["attempt"] == 1


def test_heartbeat_stops_a_job_whose_video_was_deleted(uploaded: Video) -> None:
    processing.claim(uploaded.id, "job-1")
    videos.delete_video(uploaded.owner, uploaded.id)
    assert not processing.heartbeat(uploaded.id, "job-1", {"stage": "encode", "percent": 50.0})
    assert processing.finish(uploaded.id, "job-1", {"duration_s": 1.0}) is None


def test_failure_keeps_the_reason_and_the_owner_can_retry(
    uploaded: Video, make_user: Callable[..., User]
) -> None:
    processing.claim(uploaded.id, "job-1")
    processing.fail(uploaded.id, "job-1", "This file is not a video we can read.")
    assert uploaded.status == VideoStatus.FAILED
    assert uploaded.failure_reason == "This file is not a video we can read."

    coach = make_user("coach")
    videos.share_video(uploaded.owner, uploaded.id, coach.email, "comment")
    with pytest.raises(Forbidden):
        processing.request_processing(coach, uploaded.id)

    again = processing.request_processing(uploaded.owner, uploaded.id)
    assert again.status == VideoStatus.UPLOADED
    assert again.failure_reason is None


def test_retry_refused_while_processing_or_without_the_upload(
    uploaded: Video, make_video: Callable[..., Video]
) -> None:
    processing.claim(uploaded.id, "job-1")
    with pytest.raises(Conflict):
        processing.request_processing(uploaded.owner, uploaded.id)
    bare = make_video(uploaded.owner)
    with pytest.raises(Conflict):
        processing.request_processing(uploaded.owner, bare.id)


def test_retry_through_the_api(app: Flask, uploaded: Video) -> None:
    processing.claim(uploaded.id, "job-1")
    processing.fail(uploaded.id, "job-1", "This file has no video.")
    client = app.test_client()
    csrf = login(client, uploaded.owner)
    listed = client.get(f"/api/videos/{uploaded.id}").get_json()
    assert listed["status"] == "failed"
    assert listed["failure_reason"] == "This file has no video."
    answer = client.post(f"/api/videos/{uploaded.id}/process", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 202
    assert answer.get_json()["status"] == "uploaded"
    busy = client.post(f"/api/videos/{uploaded.id}/process", headers={"X-CSRF-Token": csrf})
    assert busy.status_code == 202  # queued again; not processing yet, so allowed


def test_stored_source_names_never_come_from_the_uploader(
    app: Flask, uploaded: Video, tmp_path: Path
) -> None:
    for hostile in ("../../x", ".mp4\x00.sh", ".ünï", "." + "a" * 40, ""):
        f = tmp_path / "f"
        f.write_bytes(b"x")
        path = storage().store_source(uploaded.id, f, hostile)
        assert path.parent == storage().video_dir(uploaded.id)
        assert path.name in {"source.bin", "source.mov"}


@pytest.mark.parametrize(
    ("budget", "concurrency", "threads", "jobs"),
    [("2", "1", 2, 1), ("8", "2", 4, 2), ("8", "3", 2, 3), ("2", "4", 1, 2), ("1", "1", 1, 1)],
)
def test_jobs_times_threads_stay_within_the_core_budget(
    tmp_path: Path, budget: str, concurrency: str, threads: int, jobs: int
) -> None:
    from app.lessons.jobs import ffmpeg_threads
    from tests.conftest import make_app

    app = make_app(tmp_path, LOUPE_CORE_BUDGET=budget, LOUPE_WORKER_CONCURRENCY=concurrency)
    with app.app_context():
        assert (ffmpeg_threads(), app.config["WORKER_CONCURRENCY"]) == (threads, jobs)
        assert ffmpeg_threads() * app.config["WORKER_CONCURRENCY"] <= int(budget)


def test_reprocess_command(app: Flask, uploaded: Video) -> None:
    from click.testing import CliRunner

    from app.cli import main

    processing.claim(uploaded.id, "job-1")
    processing.fail(
        uploaded.id, "job-1", "Processing stopped: ffmpeg made no progress for 60 seconds."
    )
    env = {
        "LOUPE_DATA_DIR": str(app.config["DATA_DIR"]),
        "LOUPE_SECRET_KEY": app.config["SECRET_KEY"],
    }
    result = CliRunner().invoke(main, ["media", "reprocess", str(uploaded.id)], env=env)
    assert result.exit_code == 0, result.output
    db.session.refresh(uploaded)
    assert uploaded.status == VideoStatus.UPLOADED
    missing = CliRunner().invoke(main, ["media", "reprocess", "999999"], env=env)
    assert missing.exit_code == 1
    assert "No video 999999" in missing.output
