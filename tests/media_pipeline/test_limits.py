"""Limits enforced while processing: watchdog, wall clock, output size, cancel."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from media_pipeline import Limits, PipelineError, ProcessSettings, Progress, process
from media_pipeline.runner import Watch, run
from tests.media_pipeline.conftest import ClipFactory

SMALL = ProcessSettings(ladder=(360, 240))


def processes_mentioning(text: str) -> list[int]:
    """Return pids whose command line contains text (to prove ffmpeg was killed)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(entry))
    return found


def leftovers(folder: Path) -> list[str]:
    """Return the staging, preview or backup folders left in folder."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_stall_watchdog_kills_ffmpeg_that_stops_progressing(tmp_path: Path) -> None:
    fifo = tmp_path / "never-written.pcm"
    os.mkfifo(fifo)
    # ffmpeg blocks opening a FIFO nobody writes to: a real process making no progress.
    args = ["-f", "s16le", "-protocol_whitelist", "file", "-i", f"file:{fifo}", "-f", "null", "-"]
    with pytest.raises(PipelineError) as caught:
        run(args, kind="test", watch=Watch(stall_s=1.0))
    assert caught.value.reason == "Processing stopped: ffmpeg made no progress for 1 seconds."
    assert processes_mentioning(str(fifo)) == []


def test_wall_clock_limit(clip: ClipFactory, tmp_path: Path) -> None:
    source = clip("long.mp4", duration=20, gop=30)
    settings = ProcessSettings(ladder=(360, 240), limits=Limits(wall_clock_s=0.5))
    with pytest.raises(PipelineError) as caught:
        process(source, tmp_path / "out", settings)
    assert caught.value.reason == "Processing took longer than the 0.5-second limit."
    assert list(tmp_path.iterdir()) == []


def test_output_size_limit(h264_clip: Path, tmp_path: Path) -> None:
    settings = ProcessSettings(ladder=(360, 240), limits=Limits(max_output_bytes=200_000))
    with pytest.raises(PipelineError) as caught:
        process(h264_clip, tmp_path / "out", settings)
    assert caught.value.reason == (
        "The processed files grew larger than the 200,000 bytes limit for this upload."
    )
    assert list(tmp_path.iterdir()) == []


def cancel_during_encode(
    source: Path, out: Path, settings: ProcessSettings = SMALL
) -> list[Progress]:
    """Run process and cancel it while the encode runs and a preview is live; return updates."""
    cancel = threading.Event()
    seen: list[Progress] = []

    def on_progress(update: Progress) -> None:
        seen.append(update)
        if update.stage == "encode" and update.playable and not cancel.is_set():
            assert (out / "hls" / "master.m3u8").is_file()
            assert not (out / "manifest.json").exists()  # a preview, not a full set
            cancel.set()

    with pytest.raises(PipelineError) as caught:
        process(source, out, settings, on_progress=on_progress, cancel=cancel)
    assert caught.value.reason == "Processing was cancelled."
    assert not caught.value.transient
    assert processes_mentioning(str(out.parent)) == []
    assert processes_mentioning(str(source)) == []
    return seen


def test_cancel_after_preview_leaves_nothing(clip: ClipFactory, tmp_path: Path) -> None:
    source = clip("long.mp4", duration=20, gop=30)
    work = tmp_path / "lessons"
    seen = cancel_during_encode(source, work / "out")
    assert any(p.playable for p in seen)  # the copied rendition had been published
    assert list(work.iterdir()) == []


def test_cancel_restores_the_previous_set(clip: ClipFactory, tmp_path: Path) -> None:
    source = clip("long.mp4", duration=20, gop=30)
    out = tmp_path / "out"
    process(source, out, SMALL)
    before = sorted((p.relative_to(out), p.stat().st_size) for p in out.rglob("*"))
    manifest = (out / "manifest.json").read_bytes()
    cancel_during_encode(source, out)
    after = sorted((p.relative_to(out), p.stat().st_size) for p in out.rglob("*"))
    assert after == before
    assert (out / "manifest.json").read_bytes() == manifest
    assert leftovers(tmp_path) == []


def test_cancel_before_start(h264_clip: Path, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(PipelineError, match="cancelled"):
        process(h264_clip, tmp_path / "out", SMALL, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


# Encode path (VP9 is not browser-ready): one-second segments and a slower preset keep the
# encode running after its live preview appears.
SLOW = ProcessSettings(ladder=(360, 240), segment_s=1.0, preset="medium")


def test_cancel_during_encode_preview_leaves_nothing(clip: ClipFactory, tmp_path: Path) -> None:
    source = clip("preview.webm", duration=12, vcodec="libvpx-vp9", acodec="libopus")
    work = tmp_path / "lessons"
    seen = cancel_during_encode(source, work / "out", SLOW)
    assert any(p.playable and p.stage == "encode" for p in seen)
    assert list(work.iterdir()) == []


def test_cancel_during_encode_preview_restores_the_previous_set(
    clip: ClipFactory, tmp_path: Path
) -> None:
    source = clip("preview.webm", duration=12, vcodec="libvpx-vp9", acodec="libopus")
    out = tmp_path / "out"
    process(source, out, SLOW)
    before = sorted((p.relative_to(out), p.stat().st_size) for p in out.rglob("*"))
    manifest = (out / "manifest.json").read_bytes()
    cancel_during_encode(source, out, SLOW)
    after = sorted((p.relative_to(out), p.stat().st_size) for p in out.rglob("*"))
    assert after == before
    assert (out / "manifest.json").read_bytes() == manifest
    assert leftovers(tmp_path) == []
