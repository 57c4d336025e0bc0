"""The processing job in real worker processes with real ffmpeg, on both brokers.

Progress reaches the owner's browser live; bad files fail with a reason; deleting a video
stops its job and removes every file; a worker SIGKILLed mid-transcode leaves exactly one
complete set of outputs after a restart, and the video ends ready.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import m3u8
import pytest
import requests

from app.accounts import service as accounts
from app.core.extensions import db
from app.core.storage import storage
from app.demo import DEMO_PASSWORD
from app.lessons import processing
from app.lessons.models import Video, VideoStatus
from tests.conftest import (
    REDIS_URL,
    Browser,
    LiveServer,
    ffmpeg_available,
    need,
    start_server,
    stop_server,
    tmpfs,
    wait_until,
)

TEACHER = "ana.lopez@riverbend.example"


@pytest.fixture(autouse=True)
def _ffmpeg() -> None:
    need(ffmpeg_available(), "ffmpeg is not installed (apt-get install ffmpeg)")


def clip(folder: Path, seconds: float, height: int = 360, name: str = "lesson.mp4") -> Path:
    from media_pipeline.synth import make_clip

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    make_clip(path, duration=seconds, width=height * 16 // 9, height=height, fps=30)
    return path


def ingest(server: LiveServer, source: Path, title: str) -> int:
    with server.app().app_context():
        owner = accounts.find_user_by_email(TEACHER)
        assert owner is not None
        return processing.ingest(owner, source, title=title, original_name=source.name).id


def video_row(server: LiveServer, video_id: int) -> Video | None:
    app = server.app()
    with app.app_context():
        video = db.session.get(Video, video_id)
        if video is not None:
            db.session.expunge(video)
        return video


def test_upload_to_playable_with_live_progress(live_server: LiveServer, tmp_path: Path) -> None:
    owner = Browser(live_server, TEACHER, DEMO_PASSWORD)
    try:
        video_id = ingest(live_server, clip(tmp_path / "in", 6), "Number talks")
        progress = owner.expect("video.progress", timeout=60, video_id=video_id)
        assert 0 <= progress["percent"] <= 100
        assert progress["stage"]
        owner.expect("video.status", timeout=120, video_id=video_id, status="ready")
    finally:
        owner.close()

    info = owner.http.get(f"{live_server.url}/api/videos/{video_id}").json()
    assert info["status"] == "ready"
    assert 5.5 < info["duration_s"] < 6.5
    master = owner.http.get(live_server.url + info["media"]["hls"])
    assert master.status_code == 200
    playlist = m3u8.loads(master.text)
    assert playlist.is_variant
    assert [p.stream_info.resolution for p in playlist.playlists] == [(640, 360)]
    mp4 = owner.http.get(live_server.url + info["media"]["mp4"], headers={"Range": "bytes=0-99"})
    assert mp4.status_code == 206
    assert len(mp4.content) == 100
    assert (
        owner.http.get(live_server.url + info["media"]["poster"]).headers["Content-Type"]
        == "image/jpeg"
    )
    # Someone the lesson is not shared with gets nothing.
    coach = live_server.session("maya.chen@riverbend.example", DEMO_PASSWORD)
    assert coach.get(live_server.url + info["media"]["hls"]).status_code == 404


def test_a_file_that_is_not_a_video_fails_with_a_reason(
    live_server: LiveServer, tmp_path: Path
) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("These are my lesson notes, not a video.\n" * 50)
    owner = Browser(live_server, TEACHER, DEMO_PASSWORD)
    try:
        video_id = ingest(live_server, text, "Oops")
        failed = owner.expect("video.status", timeout=60, video_id=video_id, status="failed")
    finally:
        owner.close()
    assert failed["failure_reason"]
    assert "\n" not in failed["failure_reason"]
    assert not storage_dir(live_server, video_id).joinpath("out").exists()
    page = owner.http.get(f"{live_server.url}/videos/{video_id}")
    assert failed["failure_reason"] in page.text
    assert "Try again" in page.text


def storage_dir(server: LiveServer, video_id: int) -> Path:
    with server.app().app_context():
        return storage().video_dir(video_id)


def ffmpeg_running_on(path: Path) -> bool:
    found = subprocess.run(["pgrep", "-f", str(path)], capture_output=True, check=False)
    return found.returncode == 0


def test_deleting_a_video_stops_its_job_and_removes_everything(
    live_server: LiveServer, tmp_path: Path
) -> None:
    owner = Browser(live_server, TEACHER, DEMO_PASSWORD)
    try:
        video_id = ingest(live_server, clip(tmp_path / "in", 40, height=720), "Long lesson")
        owner.expect("video.progress", timeout=60, video_id=video_id, stage="encode")
        folder = storage_dir(live_server, video_id)
        source = next(folder.glob("source*"))
        assert ffmpeg_running_on(source)
        assert owner.http.delete(f"{live_server.url}/api/videos/{video_id}").status_code == 204
        wait_until(lambda: not ffmpeg_running_on(source), 30, "ffmpeg to stop")
        wait_until(
            lambda: not folder.exists() and not list(folder.parent.glob(f"{video_id}*")),
            30,
            "every file to go",
        )
    finally:
        owner.close()


# --- failures that are not the file's fault ------------------------------------------------------


def test_a_worker_without_ffprobe_fails_the_lesson_with_a_reason(tmp_path: Path) -> None:
    source = clip(tmp_path / "in", 2)
    empty = tmp_path / "bin"
    empty.mkdir()
    # The whole server runs with no video tools on its PATH, its worker included.
    server = start_server(tmp_path / "live", demo=True, PATH=str(empty))
    owner = Browser(server, TEACHER, DEMO_PASSWORD)
    try:
        video_id = ingest(server, source, "No tools")
        failed = owner.expect("video.status", timeout=60, video_id=video_id, status="failed")
        assert "ffprobe" in failed["failure_reason"]
        page = owner.http.get(f"{server.url}/videos/{video_id}")
        assert "ffprobe is missing" in page.text
        assert "Try again" in page.text
        assert not storage_dir(server, video_id).joinpath("out").exists()
    finally:
        owner.close()
        stop_server(server)


def test_a_full_disk_fails_the_lesson_after_bounded_retries_and_nothing_plays(
    tmp_path: Path,
) -> None:
    source = clip(tmp_path / "in", 8)
    server = start_server(
        tmp_path / "live",
        demo=True,
        LOUPE_MAX_JOB_ATTEMPTS="2",
        LOUPE_RETRY_BACKOFF_SECONDS="1",
    )
    owner: Browser | None = None
    # Room for the source, its copied rendition (the early preview) and the small files, not
    # for the MP4 that comes last: the disk fills after the lesson has become playable.
    size_kib = int(source.stat().st_size * 2.5) // 1024
    try:
        with tmpfs(server.data_dir / "media" / "videos", f"{size_kib}k") as videos:
            owner = Browser(server, TEACHER, DEMO_PASSWORD)
            video_id = ingest(server, source, "Full disk")
            owner.expect("video.progress", timeout=60, video_id=video_id, playable=True)
            failed = owner.expect("video.status", timeout=120, video_id=video_id, status="failed")
            assert "disk space" in failed["failure_reason"]
            row = video_row(server, video_id)
            assert row is not None
            assert row.processing["attempt"] == 2
            assert row.processing["playable"] is False
            info = owner.http.get(f"{server.url}/api/videos/{video_id}").json()
            assert info["status"] == "failed"
            assert info["media"] is None  # no links to files that are gone
            assert "disk space" in owner.http.get(f"{server.url}/videos/{video_id}").text
            # The preview was published during the run and taken back: nothing is left to play.
            assert sorted(p.name for p in (videos / str(video_id)).iterdir()) == ["source.mp4"]
            assert [p.name for p in videos.iterdir()] == [str(video_id)]
    finally:
        if owner is not None:
            owner.close()
        stop_server(server)


# --- a worker killed mid-transcode ---------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[LiveServer]:
    need(REDIS_URL is not None, "LOUPE_TEST_REDIS_URL is not set (no Redis to test against)")
    assert REDIS_URL is not None
    server = start_server(
        tmp_path / "live",
        demo=True,
        worker=False,
        LOUPE_REDIS_URL=REDIS_URL,
        LOUPE_BROKER_URL=REDIS_URL,
        LOUPE_STALLED_JOB_SECONDS="4",
        LOUPE_SWEEP_INTERVAL_SECONDS="2",
    )
    yield server
    stop_server(server)


def start_worker(server: LiveServer, name: str) -> subprocess.Popen[bytes]:
    log = server.data_dir / f"{name}.log"
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--beat", "--loglevel=INFO"],
        env={**os.environ, **server.env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    process.wait(timeout=30)


@pytest.mark.redis
def test_a_worker_killed_mid_transcode_ends_in_one_complete_set(
    redis_server: LiveServer, tmp_path: Path
) -> None:
    server = redis_server
    first = start_worker(server, "worker-1")
    second: subprocess.Popen[bytes] | None = None
    try:
        video_id = ingest(server, clip(tmp_path / "in", 30, height=720), "Interrupted lesson")

        def encoding() -> Any:
            row = video_row(server, video_id)
            return (
                row is not None
                and row.processing.get("stage") == "encode"
                and row.processing.get("percent", 0) > 5
            )

        wait_until(encoding, 90, "the first worker to be transcoding")
        kill_group(first, signal.SIGKILL)
        killed = video_row(server, video_id)
        assert killed is not None
        assert killed.status == VideoStatus.PROCESSING

        second = start_worker(server, "worker-2")

        def finished() -> Any:
            row = video_row(server, video_id)
            return row is not None and row.status in (VideoStatus.READY, VideoStatus.FAILED) and row

        done = wait_until(finished, 180, "the video to be processed again after the kill")
        assert done.status == VideoStatus.READY, done.failure_reason
        assert done.processing["attempt"] >= 2
        folder = storage_dir(server, video_id)
        assert sorted(p.name for p in folder.iterdir()) == ["out", "source.mp4"]
        assert not [p for p in folder.parent.iterdir() if p.name != str(video_id)]
        out = folder / "out"
        manifest = (out / "manifest.json").read_text()
        assert '"duration_s"' in manifest
        master = m3u8.load(str(out / "hls" / "master.m3u8"))
        for variant in master.playlists:
            media = m3u8.load(str(out / "hls" / variant.uri))
            assert abs(sum(s.duration for s in media.segments) - 30) < 1.0
        http = server.session(TEACHER, DEMO_PASSWORD)
        assert http.get(f"{server.url}/api/videos/{video_id}").json()["status"] == "ready"
        assert (
            requests.get(f"{server.url}/media/{video_id}/video.mp4", timeout=5).status_code == 401
        )
    finally:
        kill_group(first, signal.SIGKILL)
        if second is not None:
            kill_group(second, signal.SIGTERM)
