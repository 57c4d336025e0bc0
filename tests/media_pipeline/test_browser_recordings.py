"""Browser recordings (MediaRecorder) may hold one keyframe; they still get a full storyboard."""

from __future__ import annotations

from pathlib import Path

import webvtt

from media_pipeline import process
from tests.media_pipeline.conftest import ClipFactory, check_outputs, ffprobe


def test_a_single_keyframe_recording_gets_every_thumbnail(
    clip: ClipFactory, tmp_path: Path
) -> None:
    source = clip(
        "recording.webm", duration=12, width=640, height=480, fps=20, vcodec="libvpx",
        acodec="libopus", channels=1, gop=10_000,
    )  # fmt: skip
    frames = ffprobe(source)
    assert frames["streams"][0]["codec_name"] == "vp8"
    manifest = process(source, tmp_path / "out")
    check_outputs(tmp_path / "out", manifest, audio=True)
    cues = webvtt.read(str(tmp_path / "out" / "storyboard.vtt"))
    # One thumbnail per storyboard interval, not the single one the keyframes alone would give.
    assert len(cues) >= 2
    assert len({cue.text for cue in cues}) == len(cues)
