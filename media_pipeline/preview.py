"""Publish a growing HLS preview of the single encode while it runs, without a second decode.

ffmpeg writes each rung's media playlist as an EVENT playlist and replaces it (temp file, then
rename) each time it closes a segment, so a segment listed there is complete and never written
again, while a segment not yet listed may be half written. A snapshot is therefore made only of
listed segments: hard links to them and to the init segments, copies of the playlists cut to the
segments every rung already has (a player switching rungs finds the same time range), a master
playlist and the poster. It is swapped into outdir atomically and replaced by a newer one every
few seconds, so a player reloading the EVENT playlist sees it grow.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from pathlib import Path

from media_pipeline import hls, publish
from media_pipeline.plan import AUDIO_KBPS, RenditionPlan

# Segments every rung must have before the first preview: a player needs a little buffer.
MIN_SEGMENTS = 2
# Seconds between snapshots: hls.js reloads a live playlist once per target duration (4 s).
REPUBLISH_S = 3.0


class LivePreview:
    """Watch the encode's playlists and publish snapshots of its finished segments at outdir."""

    def __init__(
        self,
        workdir: Path,
        outdir: publish.Outdir,
        renditions: tuple[RenditionPlan, ...],
        fps: float | None,
        has_audio: bool,
    ) -> None:
        self.workdir = workdir
        self.outdir = outdir
        self.renditions = renditions
        self.fps = fps
        self.has_audio = has_audio
        self.published = 0  # segments per rung in the snapshot now at outdir
        self.last_publish = -math.inf

    def poll(self, *, final: bool = False) -> bool:
        """Publish a snapshot when new segments are done; return True if it is the first one.

        ``final`` (the encode has ended) publishes whatever exists, with ENDLIST, at once.
        """
        if not final and self.published and time.monotonic() - self.last_publish < REPUBLISH_S:
            return False
        texts = self._playlists()
        if texts is None:
            return False
        count = min(len(hls.parse_media_playlist(t).segments) for t in texts.values())
        if count < (1 if final else MIN_SEGMENTS) or (count <= self.published and not final):
            return False
        first = not self.outdir.preview_live
        self._publish(texts, count)
        self.published = count
        self.last_publish = time.monotonic()
        return first

    def _playlists(self) -> dict[str, str] | None:
        texts = {}
        for r in self.renditions:
            path = self.workdir / "hls" / r.name / "index.m3u8"
            try:
                text = path.read_text()
            except FileNotFoundError:
                return None  # ffmpeg writes it when the rung's first segment closes
            if hls.parse_media_playlist(text).init is None:
                return None
            texts[r.name] = text
        return texts

    def _publish(self, texts: dict[str, str], count: int) -> None:
        folder = publish.staging_dir(self.outdir.path, "preview")
        try:
            stats = []
            for r in self.renditions:
                source, target = self.workdir / "hls" / r.name, folder / "hls" / r.name
                target.mkdir(parents=True)
                text = hls.first_segments(texts[r.name], count)
                media = hls.parse_media_playlist(text)
                for name in (media.init or "init.mp4", *(n for n, _ in media.segments)):
                    os.link(source / name, target / name)
                # A copy, not a link: ffmpeg keeps replacing its own playlist.
                (target / "index.m3u8").write_text(text)
                measured = hls.variant_stats(folder / "hls", r)
                # Two segments say little about the peak rate; the encoder's cap bounds it.
                cap = (r.video_kbps + (AUDIO_KBPS if self.has_audio else 0)) * 1000
                stats.append(dataclasses.replace(measured, bandwidth=max(measured.bandwidth, cap)))
            (folder / "hls" / "master.m3u8").write_text(hls.master_text(stats, self.fps))
            poster = self.workdir / "poster.jpg"
            if poster.exists():
                os.link(poster, folder / "poster.jpg")
        except BaseException:
            publish.remove(folder)
            raise
        self.outdir.show(folder)
