"""The library stays pure and its plan is decided without ffmpeg."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from media_pipeline import MediaInfo, PipelineError, ProcessSettings, plan
from media_pipeline.extras import peaks_document, storyboard_interval, storyboard_vtt
from media_pipeline.model import AudioInfo, VideoInfo

VIDEO = VideoInfo(
    index=0,
    codec="h264",
    profile="High",
    pix_fmt="yuv420p",
    width=1920,
    height=1080,
    display_width=1920,
    display_height=1080,
    rotation=0,
    fps=30.0,
    frame_rate="30/1",
    vfr=False,
    interlaced=False,
    bit_depth=8,
)
AUDIO = AudioInfo(index=1, codec="aac", profile="LC", channels=2, sample_rate=48000)
INFO = MediaInfo("mov,mp4", 2700.0, 8_000_000, 2_700_000_000, VIDEO, AUDIO, 2)


def with_video(**changes: object) -> MediaInfo:
    """Return INFO with some video fields changed."""
    return replace(INFO, video=replace(VIDEO, **changes))


def test_importing_never_loads_the_web_app() -> None:
    code = (
        "import sys, media_pipeline, media_pipeline.cli, media_pipeline.synth;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'app')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_phone_1080p_copies_top_and_encodes_the_rest() -> None:
    job = plan(INFO, ProcessSettings())
    assert [(r.name, r.width, r.height, r.mode) for r in job.renditions] == [
        ("1080p", 1920, 1080, "copy"),
        ("720p", 1280, 720, "encode"),
        ("360p", 640, 360, "encode"),
    ]
    assert job.copy_audio
    assert job.fps == "30/1"


def test_never_upscale_480p() -> None:
    job = plan(
        with_video(width=854, height=480, display_width=854, display_height=480), ProcessSettings()
    )
    assert [(r.height, r.mode) for r in job.renditions] == [(480, "copy"), (360, "encode")]


def test_rotated_portrait_uses_short_side_and_encodes() -> None:
    job = plan(with_video(rotation=90, display_width=1080, display_height=1920), ProcessSettings())
    assert [(r.width, r.height, r.mode) for r in job.renditions] == [
        (1080, 1920, "encode"),
        (720, 1280, "encode"),
        (360, 640, "encode"),
    ]
    assert "rotated" in job.not_copied_because


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"codec": "hevc", "profile": "Main 10", "pix_fmt": "yuv420p10le", "bit_depth": 10},
            "codec hevc",
        ),
        ({"vfr": True, "fps": 29.1}, "variable frame rate"),
        ({"interlaced": True}, "interlaced"),
        ({"codec": "vp9", "profile": "Profile 0"}, "codec vp9"),
        ({"fps": 60.0, "frame_rate": "60/1"}, "frame rate above the cap"),
    ],
)
def test_not_browser_ready_means_encode(changes: dict[str, object], reason: str) -> None:
    job = plan(with_video(**changes), ProcessSettings())
    assert job.copy is None
    assert reason in job.not_copied_because
    assert job.deinterlace == bool(changes.get("interlaced"))


def test_vfr_and_high_fps_become_constant_capped_rate() -> None:
    assert plan(with_video(vfr=True, fps=29.1), ProcessSettings()).fps == "29"
    assert plan(with_video(fps=59.94, frame_rate="60000/1001"), ProcessSettings()).fps == "30"
    assert plan(with_video(fps=25.0, frame_rate="25/1"), ProcessSettings()).fps == "25/1"


def test_odd_dimensions_become_even() -> None:
    job = plan(
        with_video(codec="vp8", width=639, height=359, display_width=639, display_height=359),
        ProcessSettings(),
    )
    assert [(r.width, r.height) for r in job.renditions] == [(638, 358)]


def test_surround_and_mono_audio_are_reencoded_and_silence_is_handled() -> None:
    assert not plan(replace(INFO, audio=replace(AUDIO, channels=6)), ProcessSettings()).copy_audio
    assert not plan(replace(INFO, audio=replace(AUDIO, channels=1)), ProcessSettings()).copy_audio
    silent = plan(replace(INFO, audio=None), ProcessSettings())
    assert not silent.has_audio
    assert silent.copy is not None


def test_no_video_and_empty_ladder_are_errors() -> None:
    with pytest.raises(PipelineError, match="no video"):
        plan(replace(INFO, video=None), ProcessSettings())
    with pytest.raises(PipelineError):
        plan(INFO, ProcessSettings(ladder=()))


def test_storyboard_interval_keeps_long_lessons_under_200_thumbs() -> None:
    assert storyboard_interval(60) == 5
    assert storyboard_interval(3 * 3600) * 200 >= 3 * 3600
    text = storyboard_vtt(101, 5.0, 503.0, 160, 90)
    assert "sprite-0002.jpg#xywh=0,0,160,90" in text
    assert text.rstrip().endswith("sprite-0002.jpg#xywh=0,0,160,90")


def test_peaks_document_shape() -> None:
    import array

    doc = peaks_document(array.array("h", [0, 32767, -32768, 5] * 2000), 8000, 1.0)
    assert doc["length"] == 10
    assert doc["data"][:2] == [-128, 127]
    silent = peaks_document(array.array("h"), 8000, 3.0)
    assert (silent["length"], silent["data"]) == (0, [])
