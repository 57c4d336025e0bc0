"""Generate test and demo clips with lavfi: a test pattern, a tone and a burnt-in timecode.

Used by the tests (clips of a few seconds in a temp folder) and by the app to seed demo lessons,
e.g. ``make_clip(path, duration=75, width=1280, height=720)``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import ffmpeg

from media_pipeline.runner import FFMPEG

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
)


@cache
def font_file() -> str | None:
    """Return a monospace TTF for the timecode, asking fontconfig first; None if there is none."""
    fc_match = shutil.which("fc-match")
    if fc_match:
        # Fixed argv, no shell: ask fontconfig where its monospace font lives.
        done = subprocess.run(  # noqa: S603
            [fc_match, "-f", "%{file}", "monospace"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        found = done.stdout.strip()
        if done.returncode == 0 and found.endswith((".ttf", ".otf")) and os.path.exists(found):
            return found
    return next((f for f in _FONT_CANDIDATES if os.path.exists(f)), None)


def _run(args: list[str]) -> None:
    # Arguments built here from numbers and our own paths; no shell.
    done = subprocess.run(  # noqa: S603
        [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed making a clip: {done.stderr.strip()[-800:]}")


def make_clip(
    path: Path,
    *,
    duration: float = 3.0,
    width: int = 640,
    height: int = 360,
    fps: float = 30,
    vcodec: str = "libx264",
    pix_fmt: str = "yuv420p",
    acodec: str | None = "aac",
    channels: int = 2,
    sample_rate: int = 48000,
    container: str | None = None,
    rotate: int = 0,
    vfr: bool = False,
    interlaced: bool = False,
    faststart: bool = True,
    timecode: bool = True,
    gop: int | None = None,
    preset: str = "ultrafast",
) -> Path:
    """Write a clip of a moving test pattern (with optional tone) to ``path`` and return it.

    ``acodec=None`` (or "none") makes a silent clip. ``rotate`` is stored as display-matrix
    metadata by a stream-copy remux, because ffmpeg 5.1 does not keep it when encoding.
    ``vfr`` drops an irregular pattern of frames and keeps their original timestamps.
    """
    path = Path(path)
    video = ffmpeg.input(
        f"testsrc2=size={width}x{height}:rate={fps}:duration={duration}", f="lavfi"
    )
    v = video.video
    font = font_file() if timecode else None
    if font:
        v = v.filter(
            "drawtext",
            fontfile=font,
            text="%{pts:hms}",
            fontsize=max(12, height // 12),
            fontcolor="white",
            box=1,
            boxcolor="black@0.6",
            x=10,
            y=10,
        )
    if vfr:
        # Keep 2 of every 3 frames, then 4 of 5 elsewhere: timestamps become irregular.
        v = v.filter("select", "not(eq(mod(n,3),2)*lt(mod(n,60),30))")
    streams = [v]
    options: dict[str, Any] = {"c:v": vcodec, "pix_fmt": pix_fmt}
    if acodec and acodec != "none":
        tone = ffmpeg.input(
            f"sine=frequency=440:beep_factor=4:sample_rate={sample_rate}:duration={duration}",
            f="lavfi",
        )
        streams.append(tone.audio)
        options.update({"c:a": acodec, "ac": channels, "ar": sample_rate})
        if acodec == "aac" or acodec == "libopus" or acodec == "libvorbis":
            options["b:a"] = "96k" if channels <= 2 else "256k"
    if vcodec in ("libx264", "libx265"):
        options["preset"] = preset
    if vcodec == "libx265":
        options["x265-params"] = "log-level=error"
        if (container or path.suffix.lstrip(".")) in ("mov", "mp4"):
            options["tag:v"] = "hvc1"
    if vcodec in ("libvpx", "libvpx-vp9"):
        options.update({"deadline": "realtime", "cpu-used": 8, "b:v": "1M"})
    if gop:
        options["g"] = gop
    if vfr:
        options["fps_mode"] = "vfr"
    if interlaced:
        options.update({"flags": "+ildct+ilme", "top": 1})
    if container:
        options["f"] = container
    suffix = path.suffix.lower()
    if suffix in (".mp4", ".mov", ".m4v") and faststart and not rotate:
        options["movflags"] = "+faststart"
    if not rotate:
        args = ffmpeg.output(*streams, str(path), **options).get_args()
        _run([str(a) for a in args])
        return path
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        encoded = Path(tmp) / f"encoded{path.suffix}"
        _run([str(a) for a in ffmpeg.output(*streams, str(encoded), **options).get_args()])
        remux: dict[str, Any] = {"c": "copy", "metadata:s:v:0": f"rotate={rotate}"}
        if faststart:
            remux["movflags"] = "+faststart"
        args = ffmpeg.output(ffmpeg.input(str(encoded)), str(path), **remux).get_args()
        _run([str(a) for a in args])
    return path


def make_demo_lesson(path: Path, *, duration: float = 75.0) -> Path:
    """Write a 720p demo lesson: test pattern, tone and burnt-in timecode."""
    return make_clip(path, duration=duration, width=1280, height=720, preset="veryfast")
