"""Plain dataclasses shared by the library, its CLI and the app."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

GIB = 1024**3


@dataclass(frozen=True)
class Limits:
    """Bound what one upload may cost; checked from the probe and enforced while processing.

    ``max_output_bytes=None`` means "3 x the source size + 2 GiB": generous for any real
    ladder (the output is usually smaller than a phone source) while stopping a tiny file that
    decodes into hours of video from filling the disk.
    """

    max_pixels: int = 4096 * 2304
    max_duration_s: float = 4 * 3600.0
    max_streams: int = 16
    max_output_bytes: int | None = None
    wall_clock_s: float = 4 * 3600.0
    stall_s: float = 60.0

    def output_budget(self, source_bytes: int) -> int:
        """Return the byte budget for everything written while processing one source."""
        if self.max_output_bytes is not None:
            return self.max_output_bytes
        return 3 * source_bytes + 2 * GIB


@dataclass(frozen=True)
class ProcessSettings:
    """Choose the ladder and the encoder effort.

    ``ladder`` lists rungs by the short side of the upright picture (the height of a landscape
    video, the width of a portrait one), so a portrait phone clip gets 1080x1920, not 608x1080.
    ``force_encode`` disables the copy path (the benchmark uses it to time the encode path).
    """

    ladder: tuple[int, ...] = (1080, 720, 360)
    threads: int = 2
    preset: str = "veryfast"
    segment_s: float = 4.0
    loudnorm: bool = False
    limits: Limits = field(default_factory=Limits)
    max_fps: int = 30
    force_encode: bool = False


@dataclass(frozen=True)
class Progress:
    """Describe how far processing has come; sent to ``on_progress``."""

    stage: str
    percent: float
    eta_s: float | None
    playable: bool
    speed: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class VideoInfo:
    """Describe the video stream that will be played."""

    index: int
    codec: str
    profile: str | None
    pix_fmt: str | None
    width: int
    height: int
    display_width: int
    display_height: int
    rotation: int
    fps: float | None
    frame_rate: str | None
    vfr: bool
    interlaced: bool
    bit_depth: int


@dataclass(frozen=True)
class AudioInfo:
    """Describe the audio stream that will be played."""

    index: int
    codec: str
    profile: str | None
    channels: int
    sample_rate: int


@dataclass(frozen=True)
class MediaInfo:
    """Describe an upload as ffprobe saw it."""

    container: str
    duration_s: float
    bitrate: int | None
    size_bytes: int
    video: VideoInfo | None
    audio: AudioInfo | None
    stream_count: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Rendition:
    """Describe one published HLS variant."""

    name: str
    height: int
    width: int
    bitrate: int
    average_bitrate: int
    plan: Literal["copy", "encode"]
    codecs: str
    playlist: str


@dataclass(frozen=True)
class FileEntry:
    """Name one published file and its size."""

    path: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    """Describe a finished output folder; written as ``manifest.json``."""

    pipeline_version: str
    source: MediaInfo
    duration_s: float
    renditions: tuple[Rendition, ...]
    files: tuple[FileEntry, ...]
    timings: dict[str, float]
    created_at: str
    hls: str = "hls/master.m3u8"
    mp4: str = "video.mp4"
    poster: str = "poster.jpg"
    storyboard: str = "storyboard.vtt"
    peaks: str = "peaks.json"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)
