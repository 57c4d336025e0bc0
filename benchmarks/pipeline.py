"""Benchmark Loupe's media pipeline against a hand-written floor and a per-rendition design.

Run by hand (not in tests):  .venv/bin/python benchmarks/pipeline.py --minutes 1

Sources (cached in ~/.cache/loupe-bench): an N-minute 1080p30 H.264/AAC phone-like MP4 and an
HEVC variant. Runs, one after another:
  (a) Loupe: encode path (copy disabled) on H.264 and on HEVC, plus the copy path on H.264;
  (b) the floor: one hand-written ffmpeg command making the same three HLS renditions;
  (c) the common peer design: one ffmpeg command per rendition.
Reports wall and CPU seconds (children's rusage, plus this process's for Loupe), realtime
factor, peak child memory, and the ratios a/b, a/c, copy-vs-encode speedup, time-to-playable.
"""

from __future__ import annotations

import argparse
import functools
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from media_pipeline import ProcessSettings, process

LADDER = ((1920, 1080, 5000), (1280, 720, 2500), (640, 360, 800))
FFMPEG = "/usr/bin/ffmpeg"


@dataclass
class Result:
    """Hold one benchmark's measurements."""

    name: str
    wall_s: float
    cpu_s: float
    peak_mb: float
    extra: str = ""


def measure(name: str, work: Callable[[], str]) -> Result:
    """Run work and return wall time, CPU of children + self, and peak child RSS."""
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    extra = work()
    wall = time.perf_counter() - start
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (kids.ru_utime - kids0.ru_utime) + (kids.ru_stime - kids0.ru_stime)
    cpu += (me.ru_utime - self0.ru_utime) + (me.ru_stime - self0.ru_stime)
    # ru_maxrss of children is the largest child so far (KiB on Linux).
    return Result(name, wall, cpu, kids.ru_maxrss / 1024, extra)


def ffmpeg(args: list[str]) -> None:
    """Run one ffmpeg command on a trusted, generated source."""
    # Fixed argv built here; no shell.
    subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
        check=True,
    )


def rendition_args(width: int, height: int, kbps: int, label: str, folder: Path) -> list[str]:
    """Return output arguments for one HLS rendition, as the floor and peer commands write it."""
    out = folder / f"{height}p"
    out.mkdir(parents=True, exist_ok=True)
    return [
        "-map", label, "-map", "0:a:0",
        "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-crf", "23",
        "-maxrate", f"{kbps}k", "-bufsize", f"{2 * kbps}k",
        "-force_key_frames", "expr:gte(t,n_forced*4)", "-threads", "2",
        "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000",
        "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod",
        "-hls_segment_type", "fmp4", "-hls_segment_filename", str(out / "seg_%05d.m4s"),
        str(out / "index.m3u8"),
    ]  # fmt: skip


def floor(source: Path, folder: Path) -> str:
    """(b) One hand-written command: decode once, split, three x264 encoders."""
    graph = "[0:v:0]fps=30,format=yuv420p,split=3[v0][v1][v2];" + ";".join(
        f"[v{i}]scale={w}:{h}[o{i}]" for i, (w, h, _) in enumerate(LADDER)
    )
    args = ["-i", str(source), "-filter_complex", graph]
    for i, (w, h, kbps) in enumerate(LADDER):
        args += rendition_args(w, h, kbps, f"[o{i}]", folder)
    ffmpeg(args)
    return ""


def per_rendition(source: Path, folder: Path) -> str:
    """(c) One command per rendition: the source is decoded three times."""
    for w, h, kbps in LADDER:
        graph = f"[0:v:0]fps=30,format=yuv420p,scale={w}:{h}[o]"
        ffmpeg(["-i", str(source), "-filter_complex", graph,
                *rendition_args(w, h, kbps, "[o]", folder)])  # fmt: skip
    return ""


def loupe(source: Path, folder: Path, force_encode: bool) -> Callable[[], str]:
    """(a) Loupe's process(): the full set (HLS ladder, MP4, poster, storyboard, peaks)."""

    def work() -> str:
        manifest = process(source, folder, ProcessSettings(force_encode=force_encode))
        plans = ",".join(f"{r.name}:{r.plan}" for r in manifest.renditions)
        return f"ttp={manifest.timings['time_to_playable_s']:.1f}s {plans}"

    return work


PHONE_VIDEO = {
    # Phones record 1080p30 at ~16-20 Mbit/s (H.264) or ~10 Mbit/s (HEVC), with sensor noise:
    # decoding such a file costs far more than a clean, low-bitrate test pattern would.
    "libx264": ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
                "-b:v", "16M", "-maxrate", "20M", "-bufsize", "32M"],
    "libx265": ["-c:v", "libx265", "-preset", "veryfast", "-tag:v", "hvc1",
                "-b:v", "10M", "-maxrate", "12M", "-bufsize", "20M",
                "-x265-params", "log-level=error"],
}  # fmt: skip


def phone_like(path: Path, seconds: float, vcodec: str) -> None:
    """Make a phone-like lesson: moving test pattern with sensor noise at a phone's bitrate."""
    graph = (
        f"testsrc2=size=1920x1080:rate=30:duration={seconds},noise=alls=14:allf=t+u,format=yuv420p"
    )
    ffmpeg([
        "-f", "lavfi", "-i", graph,
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        *PHONE_VIDEO[vcodec], "-g", "30", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-movflags", "+faststart", str(path),
    ])  # fmt: skip


def sources(minutes: float, cache: Path) -> tuple[Path, Path]:
    """Make (once) the H.264 and HEVC phone-like sources."""
    cache.mkdir(parents=True, exist_ok=True)
    h264 = cache / f"phone-{minutes:g}min-1080p-16M.mp4"
    hevc = cache / f"phone-{minutes:g}min-1080p-hevc-10M.mp4"
    seconds = minutes * 60
    if not h264.exists():
        print(f"generating {h264} ...", flush=True)
        phone_like(h264, seconds, "libx264")
    if not hevc.exists():
        print(f"generating {hevc} ...", flush=True)
        phone_like(hevc, seconds, "libx265")
    return h264, hevc


def main() -> None:
    """Run every benchmark and print the table and the ratios against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "loupe-bench")
    args = parser.parse_args()
    h264, hevc = sources(args.minutes, args.cache)
    duration = args.minutes * 60
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(dir=args.cache) as tmp:
        work = Path(tmp)

        def fresh(name: str) -> Path:
            shutil.rmtree(work / name, ignore_errors=True)
            return work / name

        for label, src in (("h264", h264), ("hevc", hevc)):
            results[f"b_{label}"] = measure(
                f"(b) floor, one command [{label}]", functools.partial(floor, src, work / "b")
            )
            results[f"c_{label}"] = measure(
                f"(c) one command per rendition [{label}]",
                functools.partial(per_rendition, src, work / "c"),
            )
            results[f"a_{label}"] = measure(
                f"(a) Loupe encode path [{label}]", loupe(src, fresh("a"), force_encode=True)
            )
        results["copy"] = measure("(a) Loupe copy path [h264]", loupe(h264, fresh("copy"), False))
    print(f"\nsource: {args.minutes:g} min 1080p30; ladder 1080/720/360; 2 threads per encoder\n")
    print(f"{'run':44} {'wall s':>8} {'cpu s':>8} {'x rt':>6} {'peak MB':>8}  notes")
    for r in results.values():
        print(f"{r.name:44} {r.wall_s:8.1f} {r.cpu_s:8.1f} {duration / r.wall_s:6.2f} "
              f"{r.peak_mb:8.0f}  {r.extra}")  # fmt: skip
    print()
    for label in ("h264", "hevc"):
        a, b, c = results[f"a_{label}"], results[f"b_{label}"], results[f"c_{label}"]
        print(f"[{label}] a/b wall {a.wall_s / b.wall_s:.3f} cpu {a.cpu_s / b.cpu_s:.3f} "
              f"(target <= 1.10);  a/c wall {a.wall_s / c.wall_s:.3f} cpu {a.cpu_s / c.cpu_s:.3f} "
              f"(target cpu <= 0.80)")  # fmt: skip
    copy, enc = results["copy"], results["a_h264"]
    print(f"copy path vs encode path: {enc.wall_s / copy.wall_s:.1f}x faster "
          f"(target >= 20x); {copy.extra}")  # fmt: skip
    print(f"peak child memory: {max(r.peak_mb for r in results.values()):.0f} MB (target < 1536)")


if __name__ == "__main__":
    main()
