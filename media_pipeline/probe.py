"""Read an upload's streams with ffprobe, refusing anything we will not decode."""

from __future__ import annotations

import dataclasses
import json
import math
import struct
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

from media_pipeline.errors import PipelineError
from media_pipeline.model import AudioInfo, Limits, MediaInfo, VideoInfo
from media_pipeline.runner import (
    FFPROBE,
    FORMAT_WHITELIST,
    PROTOCOL_WHITELIST,
    source_url,
    tool_missing,
)
from media_pipeline.words import span

NOT_A_VIDEO = "This file is not a video we can read."
INCOMPLETE = "The file seems incomplete — upload it again."
NO_VIDEO = "This file has no video."
EMPTY = "The file is empty — upload it again."
PROBE_TIMEOUT_S = 120.0

# A real recording's frame rate never jitters this much between the nominal and average rates;
# phones drift by well under 1 %, so 2 % separates real VFR from rounding.
VFR_TOLERANCE = 0.02

_ISO_FAMILY = ("mov", "mp4", "m4a", "3gp", "3g2", "mj2")


def _rate(raw: str | None) -> Fraction | None:
    if not raw or "/" not in raw:
        return None
    num, _, den = raw.partition("/")
    try:
        if int(den) == 0 or int(num) == 0:
            return None
        return Fraction(int(num), int(den))
    except ValueError:
        return None


def _int(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _float(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _bit_depth(stream: dict[str, Any]) -> int:
    pix_fmt = str(stream.get("pix_fmt") or "")
    for depth in (16, 14, 12, 10, 9):
        if f"p{depth}" in pix_fmt:
            return depth
    return _int(stream.get("bits_per_raw_sample")) or 8


def _rotation(stream: dict[str, Any]) -> int:
    """Return the clockwise rotation a player must apply, in degrees (0, 90, 180, 270)."""
    tag = _int((stream.get("tags") or {}).get("rotate"))
    if tag is not None:
        return tag % 360
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            # The display matrix angle is counter-clockwise; players rotate clockwise by its
            # negation (the old "rotate" tag convention).
            angle = _float(side.get("rotation")) or 0.0
            return int(round(-angle / 90.0) * 90) % 360
    return 0


def _video(stream: dict[str, Any]) -> VideoInfo | None:
    width = _int(stream.get("width")) or 0
    height = _int(stream.get("height")) or 0
    if width <= 0 or height <= 0:
        return None
    rotation = _rotation(stream)
    sar = _rate((stream.get("sample_aspect_ratio") or "").replace(":", "/"))
    display_width = width
    if sar is not None and sar != 1:
        display_width = max(2, round(width * sar))
    display_height = height
    if rotation in (90, 270):
        display_width, display_height = display_height, display_width
    avg = _rate(stream.get("avg_frame_rate"))
    nominal = _rate(stream.get("r_frame_rate"))
    rate = avg or nominal
    vfr = bool(avg and nominal and abs(float(nominal) / float(avg) - 1) > VFR_TOLERANCE)
    field_order = str(stream.get("field_order") or "progressive")
    return VideoInfo(
        index=int(stream["index"]),
        codec=str(stream.get("codec_name") or "unknown"),
        profile=stream.get("profile"),
        pix_fmt=stream.get("pix_fmt"),
        width=width,
        height=height,
        display_width=display_width,
        display_height=display_height,
        rotation=rotation,
        fps=round(float(rate), 3) if rate else None,
        frame_rate=f"{rate.numerator}/{rate.denominator}" if rate else None,
        vfr=vfr,
        interlaced=field_order not in ("progressive", "unknown", ""),
        bit_depth=_bit_depth(stream),
    )


def _audio(stream: dict[str, Any]) -> AudioInfo:
    return AudioInfo(
        index=int(stream["index"]),
        codec=str(stream.get("codec_name") or "unknown"),
        profile=stream.get("profile"),
        channels=_int(stream.get("channels")) or 0,
        sample_rate=_int(stream.get("sample_rate")) or 0,
    )


def _looks_like_iso(path: Path) -> bool:
    """Tell whether a file starts with an MP4/MOV box, so a missing index means truncation."""
    with path.open("rb") as fh:
        head = fh.read(8)
    return len(head) == 8 and head[4:8] in (b"ftyp", b"mdat", b"wide", b"free", b"skip")


def iso_truncated(path: Path) -> bool:
    """Tell whether an MP4/MOV's top-level boxes claim more bytes than the file has."""
    size = path.stat().st_size
    offset = 0
    with path.open("rb") as fh:
        while offset < size:
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                return True
            box_size, kind = struct.unpack(">I4s", header[:8])
            if box_size == 1:
                if len(header) < 16:
                    return True
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:
                return False  # the last box runs to the end of the file by definition
            if box_size < 8:
                return False  # not a box structure we understand; let ffmpeg judge
            if offset + box_size > size:
                return bool(kind != b"free")
            offset += box_size
    return False


def _run_ffprobe(path: Path, extra: list[str]) -> dict[str, Any]:
    argv = [
        FFPROBE,
        "-v",
        "error",
        "-format_whitelist",
        FORMAT_WHITELIST,
        "-protocol_whitelist",
        PROTOCOL_WHITELIST,
        *extra,
        "-of",
        "json",
        source_url(path),
    ]
    try:
        # Fixed argv, no shell; the whitelists stop playlists from opening other files.
        done = subprocess.run(  # noqa: S603
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PipelineError(NOT_A_VIDEO, detail="ffprobe timed out") from exc
    except (FileNotFoundError, PermissionError) as exc:
        raise tool_missing(FFPROBE, exc) from exc
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        if "moov atom not found" in stderr and _looks_like_iso(path):
            raise PipelineError(INCOMPLETE, detail=stderr.strip()[-500:])
        raise PipelineError(NOT_A_VIDEO, detail=stderr.strip()[-500:])
    try:
        data = json.loads(done.stdout)
    except ValueError as exc:
        raise PipelineError(NOT_A_VIDEO, detail="ffprobe printed no JSON") from exc
    if not isinstance(data, dict):
        raise PipelineError(NOT_A_VIDEO, detail="ffprobe printed no object")
    return data


def _scan_duration(path: Path, index: int) -> float | None:
    """Find the last timestamp of a stream whose header carries no duration (MediaRecorder)."""
    data = _run_ffprobe(
        path,
        ["-select_streams", str(index), "-show_entries", "packet=pts_time,duration_time"],
    )
    end = None
    for packet in data.get("packets") or []:
        pts = _float(packet.get("pts_time"))
        if pts is None:
            continue
        stop = pts + (_float(packet.get("duration_time")) or 0.0)
        end = stop if end is None else max(end, stop)
    return end


def check_limits(info: MediaInfo, limits: Limits) -> None:
    """Refuse a probed file that breaks a limit, before anything is decoded."""
    if info.stream_count > limits.max_streams:
        raise PipelineError(
            f"The file has too many streams ({info.stream_count}); we accept up to "
            f"{limits.max_streams}."
        )
    if info.video is not None and info.video.width * info.video.height > limits.max_pixels:
        raise PipelineError(
            f"The video is too large ({info.video.width}x{info.video.height} pixels); we accept "
            f"up to {limits.max_pixels:,} pixels per frame."
        )
    if info.duration_s > limits.max_duration_s:
        raise PipelineError(f"The video is longer than the {span(limits.max_duration_s)} limit.")


def probe(path: Path, limits: Limits | None = None) -> MediaInfo:
    """Describe an upload, or raise PipelineError with a reason a teacher can read."""
    limits = limits or Limits()
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise PipelineError("The uploaded file is missing.", detail=str(exc)) from exc
    if not path.is_file():
        raise PipelineError(NOT_A_VIDEO, detail="not a regular file")
    if size == 0:
        raise PipelineError(EMPTY)
    data = _run_ffprobe(path, ["-show_format", "-show_streams"])
    fmt = data.get("format") or {}
    container = str(fmt.get("format_name") or "unknown")
    streams = [s for s in data.get("streams") or [] if isinstance(s, dict)]
    if container.split(",")[0] in _ISO_FAMILY and iso_truncated(path):
        raise PipelineError(INCOMPLETE, detail="a top-level box runs past the end of the file")
    video_streams = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audio_streams = [s for s in streams if s.get("codec_type") == "audio"]
    if not video_streams:
        if audio_streams:
            raise PipelineError(NO_VIDEO)
        raise PipelineError(NOT_A_VIDEO, detail="no streams")
    video = _video(video_streams[0])
    if video is None:
        raise PipelineError(NOT_A_VIDEO, detail="video stream has no dimensions")
    audio = _audio(audio_streams[0]) if audio_streams else None
    duration = _float(fmt.get("duration")) or _float(video_streams[0].get("duration"))
    info = MediaInfo(
        container=container,
        duration_s=duration or 0.0,
        bitrate=_int(fmt.get("bit_rate")),
        size_bytes=size,
        video=video,
        audio=audio,
        stream_count=len(streams),
    )
    # Check what the header says first: a refused file is never read further.
    check_limits(info, limits)
    if not duration:
        duration = _scan_duration(path, video.index)
        if not duration:
            raise PipelineError(NOT_A_VIDEO, detail="no duration")
        info = dataclasses.replace(info, duration_s=round(duration, 3))
        check_limits(info, limits)
    return info
