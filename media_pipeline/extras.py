"""Make the poster, the storyboard and the waveform without another full decode.

Measured on a 10-minute 1080p H.264 source on 2 cores: decoding every frame for thumbnails
takes ~76 s, decoding keyframes only (``-skip_frame nokey``) ~7 s; a poster by input seeking
decodes one GOP (~0.2 s); peaks read audio only (``-vn``, ~1 s) so no video is decoded.
"""

from __future__ import annotations

import array
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from media_pipeline import commands, runner
from media_pipeline.model import MediaInfo

THUMB_WIDTH = 160
SPRITE_COLUMNS = 10
SPRITE_ROWS = 10
MAX_THUMBS = 200
PEAKS_RATE = 8000
PEAKS_PER_SECOND = 10
MAX_PEAKS = 36000

Tick = runner.Tick


def poster_time(duration_s: float) -> float:
    """Pick a frame a tenth of the way in (past a phone's first fumbling), at most a minute."""
    return max(0.0, min(duration_s * 0.1, 60.0))


def make_poster(
    source: Path, info: MediaInfo, workdir: Path, watch: runner.Watch, on_tick: Tick | None
) -> None:
    """Write poster.jpg from a single seeked frame, falling back to the first frame."""
    video = info.video
    interlaced = bool(video and video.interlaced)
    target = workdir / "poster.jpg"
    for at in (poster_time(info.duration_s), 0.0):
        runner.run(
            commands.poster_args(source, at, interlaced, "poster.jpg"),
            kind="poster",
            watch=watch,
            cwd=workdir,
            on_tick=on_tick,
        )
        if target.exists() and target.stat().st_size > 0:
            return
    raise_missing("poster")


def raise_missing(what: str) -> None:
    """Fail because ffmpeg exited cleanly without writing a file."""
    from media_pipeline.errors import PipelineError

    raise PipelineError("This video could not be converted; it may be damaged.", detail=what)


def storyboard_interval(duration_s: float) -> float:
    """Return seconds per thumbnail: 5 s, widened so a long lesson keeps <= 200 thumbnails."""
    return float(max(5, math.ceil(duration_s / MAX_THUMBS)))


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def storyboard_vtt(count: int, interval_s: float, duration_s: float, w: int, h: int) -> str:
    """Return WebVTT cues pointing at sprite tiles, covering 0..duration."""
    per_sheet = SPRITE_COLUMNS * SPRITE_ROWS
    lines = ["WEBVTT", ""]
    count = max(1, min(count, math.ceil(duration_s / interval_s) or 1))
    for i in range(count):
        start = i * interval_s
        end = duration_s if i == count - 1 else min((i + 1) * interval_s, duration_s)
        sheet, slot = divmod(i, per_sheet)
        row, col = divmod(slot, SPRITE_COLUMNS)
        lines.append(f"{_timestamp(start)} --> {_timestamp(max(end, start + 0.001))}")
        lines.append(f"storyboard/sprite-{sheet + 1:04d}.jpg#xywh={col * w},{row * h},{w},{h}")
        lines.append("")
    return "\n".join(lines)


def make_storyboard(
    source: Path, info: MediaInfo, workdir: Path, watch: runner.Watch, on_tick: Tick | None
) -> None:
    """Write storyboard/sprite-NNNN.jpg sheets and storyboard.vtt from keyframes only."""
    video = info.video
    assert video is not None
    width = THUMB_WIDTH
    height = max(2, round(THUMB_WIDTH * video.display_height / video.display_width / 2) * 2)
    interval = storyboard_interval(info.duration_s)
    thumbs = workdir / ".thumbs"
    thumbs.mkdir()
    expected = max(1, int(info.duration_s // interval))
    count = 0
    # Keyframes only first (cameras and phones place one every second or two). Browser
    # recordings (MediaRecorder) may hold a single keyframe: then, and only then, decode all.
    for keyframes_only in (True, False):
        for old in thumbs.glob("thumb-*.jpg"):
            old.unlink()
        runner.run(
            commands.thumbs_args(
                source,
                interval,
                width,
                height,
                video.interlaced,
                ".thumbs/thumb-%05d.jpg",
                keyframes_only=keyframes_only,
            ),
            kind="storyboard",
            watch=watch,
            cwd=workdir,
            on_tick=on_tick,
        )
        count = len(list(thumbs.glob("thumb-*.jpg")))
        if count >= expected - expected // 10:  # keyframes gave (nearly) every thumbnail
            break
    if count == 0:
        raise_missing("storyboard")
    (workdir / "storyboard").mkdir()
    runner.run(
        commands.tile_args(
            ".thumbs/thumb-%05d.jpg", SPRITE_COLUMNS, SPRITE_ROWS, "storyboard/sprite-%04d.jpg"
        ),
        kind="sprites",
        watch=watch,
        cwd=workdir,
    )
    for item in thumbs.iterdir():
        item.unlink()
    thumbs.rmdir()
    text = storyboard_vtt(count, interval, info.duration_s, width, height)
    (workdir / "storyboard.vtt").write_text(text)


def peaks_document(
    samples: array.array[int], sample_rate: int, duration_s: float
) -> dict[str, object]:
    """Return a BBC audiowaveform v2 JSON document (8-bit min/max pairs) for mono samples."""
    wanted = min(MAX_PEAKS, max(1, math.ceil(duration_s * PEAKS_PER_SECOND)))
    per_pixel = max(1, math.ceil(len(samples) / wanted)) if samples else sample_rate // 10
    data: list[int] = []
    for start in range(0, len(samples), per_pixel):
        chunk = samples[start : start + per_pixel]
        # 16-bit samples to the 8-bit range audiowaveform uses with --bits 8.
        data.append(max(-128, min(127, min(chunk) >> 8)))
        data.append(max(-128, min(127, max(chunk) >> 8)))
    return {
        "version": 2,
        "channels": 1,
        "sample_rate": sample_rate,
        "samples_per_pixel": per_pixel,
        "bits": 8,
        "length": len(data) // 2,
        "data": data,
    }


def make_peaks(
    source: Path,
    info: MediaInfo,
    workdir: Path,
    watch: runner.Watch,
    on_tick: Callable[[float | None, float | None], None] | None,
) -> None:
    """Write peaks.json; a silent video gets a valid document with length 0 and no data."""
    samples: array.array[int] = array.array("h")
    if info.audio is not None:
        raw = workdir / ".peaks.pcm"
        runner.run(
            commands.pcm_args(source, PEAKS_RATE, raw.name),
            kind="peaks",
            watch=watch,
            cwd=workdir,
            on_tick=on_tick,
        )
        samples.frombytes(raw.read_bytes()[: raw.stat().st_size // 2 * 2])
        raw.unlink()
        if sys.byteorder == "big":
            samples.byteswap()
    doc = peaks_document(samples, PEAKS_RATE, info.duration_s)
    (workdir / "peaks.json").write_text(json.dumps(doc, separators=(",", ":")))
