"""Hostile or broken uploads fail early with one clear, teacher-readable reason."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from media_pipeline import FFMPEG_RUNS, Limits, PipelineError, ProcessSettings, probe, process
from media_pipeline.synth import make_clip
from tests.media_pipeline.conftest import ClipFactory

NOT_A_VIDEO = "This file is not a video we can read."
INCOMPLETE = "The file seems incomplete — upload it again."


def expect_refusal(source: Path, tmp_path: Path, reason: str) -> None:
    """Assert probe and process both refuse with reason and that nothing is left behind."""
    before = FFMPEG_RUNS.copy()
    with pytest.raises(PipelineError) as probed:
        probe(source)
    assert probed.value.reason == reason
    assert not probed.value.transient
    out = tmp_path / "out"
    with pytest.raises(PipelineError) as processed:
        process(source, out, ProcessSettings(ladder=(240,)))
    assert processed.value.reason == reason
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert before == FFMPEG_RUNS  # refused from the probe: ffmpeg never decoded anything


def test_zero_bytes(tmp_path: Path) -> None:
    source = tmp_path / "empty.mp4"
    source.write_bytes(b"")
    expect_refusal(source, tmp_path, "The file is empty — upload it again.")


def test_text_file(tmp_path: Path) -> None:
    source = tmp_path / "notes.mp4"
    source.write_text("Lesson plan: fractions.\n" * 50)
    expect_refusal(source, tmp_path, NOT_A_VIDEO)


def test_playlist_disguised_as_mp4_reads_no_other_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-GRADES-4242\n" * 100)
    victim = make_clip(tmp_path / "other.mp4", duration=1)
    playlist = tmp_path / "lesson.mp4"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nsecret.txt\n"
        f"#EXTINF:10,\n{victim.name}\n#EXT-X-ENDLIST\n"
    )
    expect_refusal(playlist, tmp_path, NOT_A_VIDEO)
    concat = tmp_path / "concat.mp4"
    concat.write_text(f"ffconcat version 1.0\nfile '{secret}'\n")
    expect_refusal(concat, tmp_path, NOT_A_VIDEO)
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != secret:
            assert b"TOP-SECRET" not in path.read_bytes(), path


@pytest.mark.parametrize("faststart", [True, False])
def test_mp4_cut_in_half(faststart: bool, clip: ClipFactory, tmp_path: Path) -> None:
    whole = clip(f"whole-{faststart}.mp4", duration=4, faststart=faststart)
    data = whole.read_bytes()
    source = tmp_path / "cut.mp4"
    source.write_bytes(data[: len(data) // 2])
    # A cut upload is refused rather than published with its second half silently missing.
    expect_refusal(source, tmp_path, INCOMPLETE)


def test_audio_only(tmp_path: Path) -> None:
    source = tmp_path / "voice.m4a"
    subprocess.run(
        ["/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=duration=2", source],
        check=True,
    )
    expect_refusal(source, tmp_path, "This file has no video.")


def patched_avi(tmp_path: Path, width: int, height: int) -> Path:
    """Return a tiny raw-video AVI whose headers claim width x height."""
    tiny = tmp_path / "tiny.avi"
    subprocess.run(
        [
            "/usr/bin/ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x64:rate=10:d=0.3",
            "-c:v",
            "rawvideo",
            "-pix_fmt",
            "gray",
            tiny,
        ],
        check=True,
    )
    data = bytearray(tiny.read_bytes())
    avih = data.find(b"avih") + 8 + 32  # dwWidth, dwHeight follow eight other dwords
    data[avih : avih + 8] = struct.pack("<II", width, height)
    strf = data.find(b"strf") + 8 + 4  # BITMAPINFOHEADER: biSize, biWidth, biHeight
    data[strf : strf + 8] = struct.pack("<ii", width, height)
    tiny.unlink()
    source = tmp_path / "huge.avi"
    source.write_bytes(bytes(data))
    return source


def test_header_claiming_16k_is_refused_by_pixel_limit(tmp_path: Path) -> None:
    source = patched_avi(tmp_path, 15360, 8640)
    expect_refusal(
        source,
        tmp_path,
        "The video is too large (15360x8640 pixels); we accept up to 9,437,184 pixels per frame.",
    )


def test_header_claiming_16384_square_is_refused(tmp_path: Path) -> None:
    # ffmpeg itself rejects 16384x16384 (over its own image-size check): not a video we read.
    source = patched_avi(tmp_path, 16384, 16384)
    expect_refusal(source, tmp_path, NOT_A_VIDEO)


def test_duration_over_limit_refused_before_decoding(h264_clip: Path, tmp_path: Path) -> None:
    before = FFMPEG_RUNS.copy()
    limits = Limits(max_duration_s=5)
    with pytest.raises(PipelineError) as caught:
        process(h264_clip, tmp_path / "out", ProcessSettings(limits=limits))
    assert caught.value.reason == "The video is longer than the 5-second limit."
    assert before == FFMPEG_RUNS
    assert list(tmp_path.iterdir()) == []
    assert probe(h264_clip, Limits(max_duration_s=3 * 3600)).duration_s == 6
