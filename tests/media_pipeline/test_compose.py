"""Composing a recorded call: tiles side by side on one clock, voices mixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from media_pipeline.compose import Participant, Segment, Track, compose, layout, merge
from media_pipeline.errors import PipelineError
from media_pipeline.synth import make_clip
from tests.media_pipeline.conftest import ffprobe


def test_two_people_one_late_one_without_camera(tmp_path: Path) -> None:
    coach_video = make_clip(tmp_path / "coach.mkv", duration=4, width=320, height=240, acodec=None)
    coach_audio = make_clip(tmp_path / "coach-a.mkv", duration=4, width=64, height=64)
    teacher_video = make_clip(tmp_path / "teacher.mkv", duration=2.5, acodec=None)
    guest_audio = make_clip(tmp_path / "guest-a.mkv", duration=3, width=64, height=64)
    people = [
        Participant("Coach", video=Track(coach_video, 0.0), audio=Track(coach_audio, 0.0)),
        Participant("Teacher", video=Track(teacher_video, 1.5)),
        Participant("Guest", audio=Track(guest_audio, 0.5)),  # camera off all along
    ]
    out = compose(people, 4.0, tmp_path / "call.mp4")
    info = ffprobe(out)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["width"], video["height"]) == (3 * 640, 480)
    assert audio["codec_name"] == "aac"
    assert float(info["format"]["duration"]) == pytest.approx(4.0, abs=0.15)


def test_four_people_make_a_grid_and_nobody_is_refused(tmp_path: Path) -> None:
    assert layout(2) == (2, 1)
    assert layout(4) == (2, 2)
    people = [
        Participant(
            f"P{i}",
            video=Track(make_clip(tmp_path / f"p{i}.mkv", duration=1.5, acodec=None), 0.2 * i),
        )
        for i in range(3)
    ] + [Participant("Camera off")]
    info = ffprobe(compose(people, 1.5, tmp_path / "grid.mp4"))
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (1280, 960)
    assert not [s for s in info["streams"] if s["codec_type"] == "audio"]
    with pytest.raises(PipelineError):
        compose([], 1.0, tmp_path / "none.mp4")


def test_a_live_stream_with_a_reconnect_is_one_timeline(tmp_path: Path) -> None:
    first = make_clip(tmp_path / "first.mkv", duration=2, width=640, height=360)
    second = make_clip(tmp_path / "second.mkv", duration=1.5, width=640, height=360)
    segments = [
        Segment(video=Track(first, 0.0), audio=Track(first, 0.0)),
        # The connection dropped for a second; the second segment resumes at 3 s.
        Segment(video=Track(second, 3.0), audio=Track(second, 3.0)),
    ]
    info = ffprobe(merge(segments, 4.5, (640, 360), tmp_path / "live.mp4"))
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (640, 360)
    assert float(info["format"]["duration"]) == pytest.approx(4.5, abs=0.15)
    with pytest.raises(PipelineError):
        merge([], 1.0, (640, 360), tmp_path / "none.mp4")
