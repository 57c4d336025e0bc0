"""Turn one upload into browser playback files: the ``process`` entry point.

Design (see the package README in the final report for figures):

* Probe first (whitelisted demuxers, ``file`` protocol only) and refuse by the limits before
  anything is decoded; then ``plan()`` decides every rendition without running ffmpeg.
* Copy path: a browser-ready source (H.264 8-bit 4:2:0, <= 1080p, constant rate, not rotated,
  not interlaced, AAC or no audio) has its top rendition stream-copied into HLS (a remux: seconds
  for a 45-minute lesson). That rendition and the poster are published at once (atomic swap), so
  ``Progress.playable`` turns True long before the lower renditions are encoded. Copied segments
  start at the source's keyframes, so they follow the phone's GOP and are not aligned with the
  encoded renditions' 4 s boundaries (hls.js and Safari still switch, just less smoothly).
* Encode path: ONE ffmpeg process decodes the source once; ``split`` feeds a scaler and x264 per
  rendition, keyframes forced at every segment boundary with the same expression. Its media
  playlists are EVENT playlists rewritten after every segment, so while it runs ``preview.py``
  publishes snapshots of the finished segments of every rung (hard links, atomic swaps, every
  few seconds) and ``Progress.playable`` turns True once each rung has two segments. A separate
  low-rung preview encode would cost a second full decode of the source; this costs none.
* Everything is written in a hidden staging folder beside outdir and swapped in with
  renameat2(RENAME_EXCHANGE); a failure or cancel restores what outdir held before the call.
* The master playlist is written here (``hls.py``) from measured segment sizes and the avcC of
  each init segment, so silent clips and copied renditions are always listed with CODECS.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from media_pipeline import commands, extras, hls, preview, publish, runner
from media_pipeline.errors import CANCELLED, PipelineError
from media_pipeline.model import (
    FileEntry,
    Manifest,
    MediaInfo,
    ProcessSettings,
    Progress,
    Rendition,
)
from media_pipeline.plan import Plan, RenditionPlan, plan
from media_pipeline.probe import probe

PIPELINE_VERSION = "1.0.0"
MIN_INTERVAL_S = 0.25
# Internal steps reported under the public stage names (probe|encode|poster|...|done).
STAGE_NAMES = {"remux": "encode"}

ProgressCallback = Callable[[Progress], None]


class _Tracker:
    """Map stage-local fractions to one overall percent, with ETA and throttling."""

    def __init__(self, callback: ProgressCallback | None, weights: dict[str, float]) -> None:
        self.callback = callback
        total = sum(weights.values()) or 1.0
        self.spans: dict[str, tuple[float, float]] = {}
        start = 0.0
        for stage, weight in weights.items():
            share = 100.0 * weight / total
            self.spans[stage] = (start, share)
            start += share
        self.started = time.monotonic()
        self.last_sent = 0.0
        self.stage = "probe"
        self.percent = 0.0
        self.playable = False
        self.lock = threading.Lock()

    def update(
        self,
        stage: str,
        fraction: float = 0.0,
        speed: float | None = None,
        *,
        force: bool = False,
    ) -> None:
        """Record a stage fraction and send an update unless one went out < 0.25 s ago."""
        start, share = self.spans.get(stage, (self.percent, 0.0))
        percent = min(100.0, max(self.percent, start + share * min(max(fraction, 0.0), 1.0)))
        with self.lock:
            self.stage, self.percent = stage, percent
            now = time.monotonic()
            if self.callback is None or (not force and now - self.last_sent < MIN_INTERVAL_S):
                return
            self.last_sent = now
        elapsed = now - self.started
        eta = None
        if 2.0 <= percent < 100.0:
            eta = round(elapsed * (100.0 - percent) / percent, 1)
        elif percent >= 100.0:
            eta = 0.0
        self.callback(
            Progress(
                stage=STAGE_NAMES.get(stage, stage),
                percent=round(percent, 2),
                eta_s=eta,
                playable=self.playable,
                speed=round(speed, 2) if speed is not None else None,
            )
        )

    def ticker(self, stage: str, duration_s: float) -> runner.Tick:
        """Return a runner callback mapping ffmpeg's out_time to this stage's fraction."""

        def tick(out_time: float | None, speed: float | None) -> None:
            self.update(stage, _fraction(out_time, duration_s), speed)

        return tick


def _fraction(out_time: float | None, duration_s: float) -> float:
    return (out_time or 0.0) / duration_s if duration_s > 0 else 0.0


def _weights(job: Plan) -> dict[str, float]:
    weights: dict[str, float] = {"probe": 0.5}
    if job.copy is not None:
        weights["remux"] = 3.0
    weights["poster"] = 0.5
    if job.encoded:
        # x264 dominates; more renditions cost more, mostly through the biggest one.
        weights["encode"] = 60.0 + 10.0 * len(job.encoded)
    weights["storyboard"] = 6.0
    weights["peaks"] = 1.5
    weights["publish"] = 3.0
    return weights


def _files(root: Path) -> tuple[FileEntry, ...]:
    entries = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if rel == "manifest.json" or name.startswith("."):
                continue
            entries.append(FileEntry(path=rel, bytes=path.stat().st_size))
    return tuple(sorted(entries, key=lambda e: e.path))


def _write_master(
    workdir: Path, renditions: tuple[RenditionPlan, ...], job: Plan
) -> list[hls.VariantStats]:
    stats = [hls.variant_stats(workdir / "hls", r) for r in renditions]
    fps = float(eval_fraction(job.fps))
    hls.write_atomic(workdir / "hls" / "master.m3u8", hls.master_text(stats, fps))
    return stats


def eval_fraction(rate: str) -> float:
    """Return a float from '30000/1001' or '30'."""
    num, _, den = rate.partition("/")
    return float(num) / float(den or 1)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise PipelineError(CANCELLED)


def process(
    source: Path,
    outdir: Path,
    settings: ProcessSettings = ProcessSettings(),  # noqa: B008 - frozen, so a shared default is safe
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Manifest:
    """Make HLS, MP4, poster, storyboard and peaks for source and publish them at outdir.

    A stream-copyable source is published twice: first its copied top rendition (seconds after
    start, ``Progress.playable`` turns True), then the full set. Any other source gets a growing
    preview of the encode's finished segments while it runs, then the full set. Every swap is
    atomic. On any failure or cancel, outdir is put back as it was before the call and no temp
    folder remains. A full disk is a transient PipelineError like ffmpeg's own.
    """
    try:
        return _process(source, outdir, settings, on_progress, cancel)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise PipelineError(runner.DISK_FULL, transient=True, detail=str(exc)) from exc
        raise


def _process(
    source: Path,
    outdir: Path,
    settings: ProcessSettings = ProcessSettings(),  # noqa: B008 - frozen, so a shared default is safe
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Manifest:
    """Run the pipeline (see process)."""
    started = time.monotonic()
    source = Path(source).resolve()
    outdir = Path(outdir).absolute()
    limits = settings.limits
    if settings.threads < 1 or settings.segment_s <= 0:
        raise PipelineError("The processing settings are invalid.")
    tracker = _Tracker(on_progress, {"probe": 1.0})
    tracker.update("probe", 0.0, force=True)
    info = probe(source, limits)
    job = plan(info, settings)
    tracker = _Tracker(on_progress, _weights(job))
    tracker.started = started
    tracker.update("probe", 1.0, force=True)
    _check_cancel(cancel)

    outdir.parent.mkdir(parents=True, exist_ok=True)
    if outdir.exists() and not outdir.is_dir():
        raise PipelineError("The output location is not a folder.")
    publish.discard_leftovers(outdir)
    watch = runner.Watch(
        cancel=cancel,
        stall_s=limits.stall_s,
        deadline=started + limits.wall_clock_s,
        wall_clock_s=limits.wall_clock_s,
        max_bytes=limits.output_budget(info.size_bytes),
    )
    workdir = publish.staging_dir(outdir, "staging")
    watch = dataclasses.replace(watch, watch_dir=workdir)
    shown = publish.Outdir(outdir)
    time_to_playable: float | None = None
    timings: dict[str, float] = {}
    try:
        for r in job.renditions:
            (workdir / "hls" / r.name).mkdir(parents=True)
        copy = job.copy
        if copy is not None:
            mark = time.monotonic()
            runner.run(
                commands.remux_args(source, job, copy, settings),
                kind="remux",
                watch=watch,
                cwd=workdir,
                on_tick=tracker.ticker("remux", info.duration_s),
            )
            timings["remux_s"] = round(time.monotonic() - mark, 3)
            _make_poster(source, info, workdir, watch, tracker, timings)
            _write_master(workdir, (copy,), job)
            # Publish the copied rendition now: a long phone lesson plays within seconds.
            snapshot = publish.staging_dir(outdir, "preview")
            try:
                publish.link_tree(workdir, snapshot)
            except BaseException:
                publish.remove(snapshot)
                raise
            shown.show(snapshot)
            tracker.playable = True
            time_to_playable = time.monotonic() - started
            tracker.update("poster", 1.0, force=True)
        else:
            # Before the encode (one seeked frame, ~0.2 s), so the first preview has a poster.
            _make_poster(source, info, workdir, watch, tracker, timings)
        _check_cancel(cancel)
        if job.encoded:
            live = None
            if copy is None:
                live = preview.LivePreview(
                    workdir, shown, job.encoded, eval_fraction(job.fps), job.has_audio
                )

            def on_encode_tick(out_time: float | None, speed: float | None) -> None:
                nonlocal time_to_playable
                # Runs in runner.run's watch loop, between its cancel and watchdog checks.
                first = live is not None and live.poll()
                if first:
                    tracker.playable = True
                    time_to_playable = time.monotonic() - started
                fraction = _fraction(out_time, info.duration_s)
                tracker.update("encode", fraction, speed, force=first)

            mark = time.monotonic()
            runner.run(
                commands.encode_args(source, job, job.encoded, settings),
                kind="encode",
                watch=watch,
                cwd=workdir,
                on_tick=on_encode_tick,
            )
            timings["encode_s"] = round(time.monotonic() - mark, 3)
            # The whole ladder plays (ENDLIST included) while the storyboard and peaks are made.
            if live is not None and live.poll(final=True):
                tracker.playable = True
                time_to_playable = time.monotonic() - started
                tracker.update("encode", 1.0, force=True)
            for r in job.encoded:
                hls.finish_media_playlist(workdir / "hls" / r.name / "index.m3u8")
        _check_cancel(cancel)
        mark = time.monotonic()
        tracker.update("storyboard", 0.0, force=True)
        extras.make_storyboard(
            source, info, workdir, watch, tracker.ticker("storyboard", info.duration_s)
        )
        timings["storyboard_s"] = round(time.monotonic() - mark, 3)
        mark = time.monotonic()
        tracker.update("peaks", 0.0, force=True)
        extras.make_peaks(source, info, workdir, watch, tracker.ticker("peaks", info.duration_s))
        timings["peaks_s"] = round(time.monotonic() - mark, 3)

        mark = time.monotonic()
        tracker.update("publish", 0.0, force=True)
        top = job.renditions[0]
        runner.run(
            commands.mp4_args(f"hls/{top.name}/index.m3u8", "video.mp4"),
            kind="mp4",
            watch=watch,
            cwd=workdir,
            on_tick=tracker.ticker("publish", info.duration_s),
        )
        stats = _write_master(workdir, job.renditions, job)
        timings["mp4_s"] = round(time.monotonic() - mark, 3)
        _check_cancel(cancel)
        total = time.monotonic() - started
        if time_to_playable is None:
            time_to_playable = total
        timings.update(
            {"time_to_playable_s": round(time_to_playable, 3), "total_s": round(total, 3)}
        )
        manifest = Manifest(
            pipeline_version=PIPELINE_VERSION,
            source=info,
            duration_s=round(max(s.duration_s for s in stats), 3),
            renditions=tuple(
                Rendition(
                    name=s.plan.name,
                    height=s.plan.height,
                    width=s.plan.width,
                    bitrate=s.bandwidth,
                    average_bitrate=s.average_bandwidth,
                    plan=s.plan.mode,
                    codecs=s.codecs,
                    playlist=f"hls/{s.playlist}",
                )
                for s in stats
            ),
            files=_files(workdir),
            timings=timings,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        if watch.max_bytes is not None and runner.dir_bytes(workdir) > watch.max_bytes:
            raise PipelineError(runner.too_big(watch.max_bytes))
        text = json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n"
        (workdir / "manifest.json").write_text(text)
        shown.finish(workdir)
        if on_progress is not None:
            on_progress(Progress("done", 100.0, 0.0, True, None))
        return manifest
    except BaseException:
        shown.restore()
        publish.remove(workdir)
        raise
    finally:
        if workdir.exists() and workdir != outdir:
            publish.remove(workdir)


def _make_poster(
    source: Path,
    info: MediaInfo,
    workdir: Path,
    watch: runner.Watch,
    tracker: _Tracker,
    timings: dict[str, float],
) -> None:
    mark = time.monotonic()
    tracker.update("poster", 0.0, force=True)
    extras.make_poster(source, info, workdir, watch, None)
    timings["poster_s"] = round(time.monotonic() - mark, 3)
