"""Every kind of upload ends as H.264/AAC HLS + MP4 + poster + storyboard + peaks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from media_pipeline import FFMPEG_RUNS, ProcessSettings, process
from tests.media_pipeline.conftest import ClipFactory, check_outputs, ffprobe

SMALL = ProcessSettings(ladder=(360, 240))

KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "vfr": ("vfr.mp4", {"vfr": True}),
    "odd": ("odd.mkv", {"width": 639, "height": 359, "pix_fmt": "yuv444p"}),
    "silent": ("silent.mp4", {"acodec": None}),
    "mono": ("mono.mp4", {"channels": 1}),
    "surround": ("surround.mp4", {"channels": 6}),
    "hevc10": ("hevc.mov", {"vcodec": "libx265", "pix_fmt": "yuv420p10le"}),
    "vp8": ("vp8.webm", {"vcodec": "libvpx", "acodec": "libvorbis"}),
    "vp9": ("vp9.webm", {"vcodec": "libvpx-vp9", "acodec": "libopus"}),
    "mpegts": ("cam.ts", {}),
    "avi": ("cam.avi", {"vcodec": "mpeg4", "acodec": "libmp3lame"}),
    "interlaced": ("interlaced.mp4", {"interlaced": True}),
    "moov_at_end": ("moov_end.mp4", {"faststart": False}),
}


def test_h264_takes_copy_path_for_top_rendition(h264_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    seen = []
    manifest = process(h264_clip, out, SMALL, on_progress=seen.append)
    assert [(r.name, r.plan) for r in manifest.renditions] == [("360p", "copy"), ("240p", "encode")]
    check_outputs(out, manifest, audio=True)
    assert manifest.timings["time_to_playable_s"] < manifest.timings["total_s"]
    first_playable = next(i for i, p in enumerate(seen) if p.playable)
    assert seen[first_playable].stage in {"poster", "encode"}
    assert seen[-1].stage == "done"
    assert seen[-1].percent == 100
    percents = [p.percent for p in seen]
    assert percents == sorted(percents)
    assert {p.stage for p in seen} <= {
        "probe",
        "encode",
        "poster",
        "storyboard",
        "peaks",
        "publish",
        "done",
    }


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_input_kind(kind: str, clip: ClipFactory, tmp_path: Path) -> None:
    name, options = KINDS[kind]
    source = clip(name, duration=3 if kind != "hevc10" else 6, **options)
    out = tmp_path / "out"
    manifest = process(source, out, SMALL)
    audio = kind != "silent"
    check_outputs(out, manifest, audio=audio)
    # H.264 video is stream-copied whatever the audio; the audio is re-encoded unless stereo AAC.
    copyable = kind in {"silent", "moov_at_end", "mono", "surround", "mpegts"}
    assert (manifest.renditions[0].plan == "copy") == copyable
    if audio:
        stream = next(
            s for s in ffprobe(out / "video.mp4")["streams"] if s["codec_type"] == "audio"
        )
        assert stream["channels"] == 2
        assert stream["sample_rate"] == "48000"
    video = next(s for s in ffprobe(out / "video.mp4")["streams"] if s["codec_type"] == "video")
    if not copyable:
        assert video["pix_fmt"] == "yuv420p"
        assert video["profile"] == "High"
    if kind == "odd":
        assert (video["width"], video["height"]) == (638, 358)
    if kind == "vfr":
        assert video["r_frame_rate"] == video["avg_frame_rate"]
    if kind == "interlaced":
        assert video.get("field_order", "progressive") == "progressive"


def test_rotated_phone_clip_ends_upright(clip: ClipFactory, tmp_path: Path) -> None:
    source = clip("rotated.mp4", duration=3, rotate=90)
    out = tmp_path / "out"
    manifest = process(source, out, SMALL)
    check_outputs(out, manifest, audio=True)
    assert [(r.width, r.height) for r in manifest.renditions] == [(360, 640), (240, 426)]
    video = next(s for s in ffprobe(out / "video.mp4")["streams"] if s["codec_type"] == "video")
    assert video["width"] < video["height"]
    assert not video.get("side_data_list")
    assert "rotate" not in video.get("tags", {})


def test_one_ffmpeg_process_encodes_every_rendition(clip: ClipFactory, tmp_path: Path) -> None:
    source = clip("hevc.mov", duration=6, vcodec="libx265", pix_fmt="yuv420p10le")
    before = FFMPEG_RUNS.copy()
    manifest = process(source, tmp_path / "out", ProcessSettings(ladder=(360, 240, 144)))
    runs = FFMPEG_RUNS - before
    assert [r.plan for r in manifest.renditions] == ["encode"] * 3
    assert runs["encode"] == 1
    assert runs["remux"] == 0
    assert sum(runs.values()) <= 6  # encode, poster, thumbs, sprites, peaks, mp4


def test_rerun_is_idempotent(h264_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = process(h264_clip, out, SMALL)
    second = process(h264_clip, out, SMALL)
    assert [f.path for f in first.files] == [f.path for f in second.files]
    assert first.renditions == second.renditions
    check_outputs(out, second, audio=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_loudnorm_and_full_ladder_never_upscale(clip: ClipFactory, tmp_path: Path) -> None:
    source = clip("small480.mp4", duration=3, width=854, height=480)
    manifest = process(source, tmp_path / "out", ProcessSettings(loudnorm=True))
    assert [(r.height, r.plan) for r in manifest.renditions] == [(480, "copy"), (360, "encode")]
    check_outputs(tmp_path / "out", manifest, audio=True)
