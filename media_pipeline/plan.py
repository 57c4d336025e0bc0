"""Decide, without running anything, how each rendition is made."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from media_pipeline.errors import PipelineError
from media_pipeline.model import MediaInfo, ProcessSettings

# A rung this close to the one above adds bytes, not choice: 370p next to 360p is dropped.
RUNG_GAP = 0.85
# Kilobits per second of H.264 at 1080p30 for talking-head classroom footage; other sizes scale
# by pixels**0.85 (bigger pictures compress better per pixel).
KBPS_1080P = 5000
AUDIO_KBPS = 128
COPY_PROFILES = frozenset({"Baseline", "Constrained Baseline", "Main", "High"})


@dataclass(frozen=True)
class RenditionPlan:
    """Say how one rendition is made."""

    name: str
    width: int
    height: int
    mode: Literal["copy", "encode"]
    video_kbps: int


@dataclass(frozen=True)
class Plan:
    """Describe the whole job: renditions (largest first) and the filters for encoding."""

    renditions: tuple[RenditionPlan, ...]
    fps: str
    deinterlace: bool
    has_audio: bool
    copy_audio: bool
    loudnorm: bool
    not_copied_because: tuple[str, ...]

    @property
    def copy(self) -> RenditionPlan | None:
        """Return the stream-copied rendition, if any."""
        return next((r for r in self.renditions if r.mode == "copy"), None)

    @property
    def encoded(self) -> tuple[RenditionPlan, ...]:
        """Return the renditions that must be encoded."""
        return tuple(r for r in self.renditions if r.mode == "encode")

    @property
    def lowest(self) -> RenditionPlan:
        """Return the smallest rendition."""
        return self.renditions[-1]


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def video_kbps(width: int, height: int, fps: float) -> int:
    """Return a peak video bitrate for one rendition."""
    pixels = width * height / (1920 * 1080)
    return max(150, round(KBPS_1080P * float(pixels**0.85) * max(fps, 24.0) / 30 / 50) * 50)


def browser_ready(info: MediaInfo, settings: ProcessSettings) -> tuple[str, ...]:
    """List why the source's video cannot be stream-copied; empty means it can."""
    video = info.video
    if video is None:
        return ("no video",)
    reasons: list[str] = []
    if settings.force_encode:
        reasons.append("encoding forced")
    if video.codec != "h264":
        reasons.append(f"codec {video.codec}")
    if video.profile not in COPY_PROFILES:
        reasons.append(f"profile {video.profile}")
    if video.pix_fmt not in ("yuv420p", "yuvj420p") or video.bit_depth != 8:
        reasons.append(f"pixel format {video.pix_fmt}")
    short, long = sorted((video.display_width, video.display_height))
    if short > 1080 or long > 1920:
        reasons.append("larger than 1080p")
    if short > max(settings.ladder):
        reasons.append("larger than the top rung")
    if video.width != video.display_width and video.rotation == 0:
        reasons.append("non-square pixels")
    if video.vfr:
        reasons.append("variable frame rate")
    if video.interlaced:
        reasons.append("interlaced")
    if video.rotation:
        reasons.append("rotated")
    if video.fps is None or video.fps > settings.max_fps + 0.5:
        reasons.append("frame rate above the cap")
    if info.audio is not None and info.audio.codec != "aac":
        reasons.append(f"audio {info.audio.codec}")
    return tuple(reasons)


def target_fps(info: MediaInfo, settings: ProcessSettings) -> str:
    """Return the constant output frame rate, as ffmpeg's fps filter takes it."""
    video = info.video
    cap = settings.max_fps
    if video is None or video.fps is None or video.frame_rate is None:
        return str(cap)
    if video.vfr or video.fps > cap + 0.5:
        return str(min(cap, max(1, round(video.fps))))
    return video.frame_rate


def plan(info: MediaInfo, settings: ProcessSettings) -> Plan:
    """Choose renditions and filters: never upscale, copy the top rung when the browser can."""
    video = info.video
    if video is None:
        raise PipelineError("This file has no video.")
    ladder = sorted({int(r) for r in settings.ladder if int(r) >= 2}, reverse=True)
    if not ladder:
        raise PipelineError("The rendition ladder is empty.")
    dw, dh = video.display_width, video.display_height
    portrait = dh > dw
    short = min(dw, dh)
    reasons = browser_ready(info, settings)
    fps = target_fps(info, settings)
    fps_value = float(Fraction(fps))

    top = min(ladder[0], short)
    rungs = [top] + [r for r in ladder if r < top * RUNG_GAP]
    renditions: list[RenditionPlan] = []
    for i, rung in enumerate(rungs):
        copy = i == 0 and not reasons
        if copy:
            width, height = video.width, video.height
        else:
            scale = rung / short
            if portrait:
                width, height = _even(rung), _even(dh * scale)
            else:
                width, height = _even(dw * scale), _even(rung)
            width, height = min(width, _even(dw)), min(height, _even(dh))
        renditions.append(
            RenditionPlan(
                name=f"{min(width, height)}p",
                width=width,
                height=height,
                mode="copy" if copy else "encode",
                video_kbps=video_kbps(width, height, fps_value),
            )
        )
    audio = info.audio
    copy_audio = bool(
        audio is not None
        and audio.codec == "aac"
        and audio.profile == "LC"
        and audio.channels == 2
        and audio.sample_rate in (44100, 48000)
        and not settings.loudnorm
    )
    return Plan(
        renditions=tuple(renditions),
        fps=fps,
        deinterlace=video.interlaced,
        has_audio=audio is not None,
        copy_audio=copy_audio,
        loudnorm=settings.loudnorm,
        not_copied_because=reasons,
    )
