"""Compose a recorded call: every participant's camera side by side, every voice mixed.

The recorder keeps one file per track and when it started; this places each on a shared
clock (late joiners start later, a missing camera is a black tile) and writes one MP4 that
then goes through the normal pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from media_pipeline.errors import PipelineError
from media_pipeline.runner import Watch, input_options, run, source_url

TILE_W, TILE_H = 640, 480
FPS = 30


@dataclass(frozen=True)
class Track:
    """One recorded track: its file and when it began, in seconds after the call's start."""

    path: Path
    offset_s: float


@dataclass(frozen=True)
class Participant:
    """One person's recorded camera and microphone (either may be missing)."""

    name: str
    video: Track | None = None
    audio: Track | None = None


def layout(count: int) -> tuple[int, int]:
    """Return (columns, rows) of the grid for this many tiles: side by side up to three."""
    return (count, 1) if count <= 3 else (2, 2)


def _blank(duration_s: float) -> Any:
    return ffmpeg.input(
        f"color=c=0x1e293b:s={TILE_W}x{TILE_H}:r={FPS}:d={duration_s:.3f}",
        f="lavfi",
        format_whitelist="lavfi",
    ).video.filter("format", "yuv420p")


def _tile(track: Track, duration_s: float) -> Any:
    video = ffmpeg.input(source_url(track.path), **input_options()).video
    return (
        video.filter("setpts", "PTS-STARTPTS")
        .filter("scale", TILE_W, TILE_H, force_original_aspect_ratio="decrease")
        .filter("pad", TILE_W, TILE_H, "(ow-iw)/2", "(oh-ih)/2")
        .filter("setsar", 1)
        .filter("fps", FPS)
        .filter("format", "yuv420p")
        # Late starters show a dark tile until they arrive; early leavers keep their last frame.
        .filter("tpad", start_duration=f"{max(0.0, track.offset_s):.3f}", color="0x1e293b")
        .filter("tpad", stop_mode="clone", stop_duration=f"{duration_s:.3f}")
        .filter("trim", duration=f"{duration_s:.3f}")
    )


def _voice(track: Track) -> Any:
    audio = ffmpeg.input(source_url(track.path), **input_options()).audio
    delay = int(max(0.0, track.offset_s) * 1000)
    return (
        audio.filter("asetpts", "PTS-STARTPTS")
        .filter("aresample", 48000)
        .filter("aformat", channel_layouts="stereo")
        .filter("adelay", delays=str(delay), all=1)
    )


def compose_args(people: Sequence[Participant], duration_s: float, output: Path) -> list[str]:
    """Return ffmpeg's arguments for the side-by-side composition."""
    if not people:
        raise PipelineError("The recording holds no participant.")
    columns, rows = layout(len(people))
    cameras_off = sum(p.video is None for p in people)
    blanks_needed = cameras_off + (columns * rows - len(people))
    # One dark source, split as often as needed (ffmpeg-python merges identical nodes).
    blanks = (
        iter(_blank(duration_s).filter_multi_output("split", blanks_needed))
        if blanks_needed
        else iter(())
    )
    tiles = [_tile(p.video, duration_s) if p.video is not None else next(blanks) for p in people]
    voices = [_voice(p.audio) for p in people if p.audio is not None]
    if len(tiles) == 1:
        video = tiles[0]
    elif rows == 1:
        video = ffmpeg.filter(tiles, "hstack", inputs=len(tiles))
    else:
        tiles += [next(blanks) for _ in range(4 - len(tiles))]
        positions = "|".join(
            f"{(i % columns) * TILE_W}_{(i // columns) * TILE_H}" for i in range(4)
        )
        video = ffmpeg.filter(tiles, "xstack", inputs=4, layout=positions)
    streams = [video]
    if voices:
        mixed = (
            voices[0]
            if len(voices) == 1
            else ffmpeg.filter(
                voices,
                "amix",
                inputs=len(voices),
                duration="longest",
                dropout_transition=0,
                normalize=0,
            )
        )
        streams.append(mixed.filter("atrim", duration=f"{duration_s:.3f}"))
    node = ffmpeg.output(
        *streams,
        str(output),
        **{
            "c:v": "libx264",
            "preset": "veryfast",
            "crf": 23,
            "pix_fmt": "yuv420p",
            "c:a": "aac",
            "b:a": "128k",
            "t": f"{duration_s:.3f}",
            "movflags": "+faststart",
        },
    )
    return [str(a) for a in node.get_args()]


def compose(
    people: Sequence[Participant], duration_s: float, output: Path, *, stall_s: float = 60.0
) -> Path:
    """Write the side-by-side recording of a call to output (an .mp4) and return it."""
    if duration_s <= 0:
        raise PipelineError("The recording is empty.")
    run(compose_args(people, duration_s, output), kind="compose", watch=Watch(stall_s=stall_s))
    if not output.exists() or output.stat().st_size == 0:
        raise PipelineError("Composing the recording produced no file.")
    return output


@dataclass(frozen=True)
class Segment:
    """One stretch of a live stream (a reconnect starts another), on the stream's clock."""

    video: Track | None = None
    audio: Track | None = None


def merge_args(
    segments: Sequence[Segment], duration_s: float, size: tuple[int, int], output: Path
) -> list[str]:
    """Return ffmpeg's arguments to lay a stream's segments on one timeline (gaps dark, silent)."""
    width, height = size[0] - size[0] % 2, size[1] - size[1] % 2
    video: Any = ffmpeg.input(
        f"color=c=black:s={width}x{height}:r={FPS}:d={duration_s:.3f}",
        f="lavfi",
        format_whitelist="lavfi",
    ).video
    voices = []
    for segment in segments:
        if segment.video is not None:
            offset = max(0.0, segment.video.offset_s)
            part = (
                ffmpeg.input(source_url(segment.video.path), **input_options())
                .video.filter("setpts", f"PTS-STARTPTS+{offset:.3f}/TB")
                .filter("scale", width, height, force_original_aspect_ratio="decrease")
                .filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2")
                .filter("setsar", 1)
            )
            video = ffmpeg.overlay(video, part, eof_action="pass", repeatlast=0)
        if segment.audio is not None:
            voices.append(_voice(segment.audio))
    streams = [video.filter("format", "yuv420p")]
    if voices:
        mixed = (
            voices[0]
            if len(voices) == 1
            else ffmpeg.filter(voices, "amix", inputs=len(voices), duration="longest", normalize=0)
        )
        streams.append(mixed.filter("atrim", duration=f"{duration_s:.3f}"))
    node = ffmpeg.output(
        *streams,
        str(output),
        **{
            "c:v": "libx264",
            "preset": "veryfast",
            "crf": 20,
            "pix_fmt": "yuv420p",
            "c:a": "aac",
            "b:a": "128k",
            "t": f"{duration_s:.3f}",
            "movflags": "+faststart",
        },
    )
    return [str(a) for a in node.get_args()]


def merge(
    segments: Sequence[Segment],
    duration_s: float,
    size: tuple[int, int],
    output: Path,
    *,
    stall_s: float = 60.0,
) -> Path:
    """Write a live stream's recording (one or more segments) to output (an .mp4)."""
    if duration_s <= 0 or not segments:
        raise PipelineError("The live lesson recorded nothing.")
    args = merge_args(segments, duration_s, size, output)
    run(args, kind="merge", watch=Watch(stall_s=stall_s))
    if not output.exists() or output.stat().st_size == 0:
        raise PipelineError("Merging the live recording produced no file.")
    return output
