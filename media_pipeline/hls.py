"""Read our media playlists and write the master playlist (RFC 8216) ourselves.

ffmpeg 5.1's own master writer drops a variant when it cannot compute its bandwidth (a silent
clip, a stream copy) and knows no CODECS for copied streams, so the master is written here from
the segments actually produced: BANDWIDTH is the peak segment bit rate, AVERAGE-BANDWIDTH the
mean, CODECS comes from the avcC box of each init segment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from media_pipeline.plan import RenditionPlan


@dataclass(frozen=True)
class MediaPlaylist:
    """Summarise one rendition's media playlist."""

    init: str | None
    segments: tuple[tuple[str, float], ...]
    ended: bool

    @property
    def duration_s(self) -> float:
        """Return the summed segment duration."""
        return sum(d for _, d in self.segments)


def read_media_playlist(path: Path) -> MediaPlaylist:
    """Parse the tags this package relies on from a media playlist file."""
    return parse_media_playlist(path.read_text())


def parse_media_playlist(text: str) -> MediaPlaylist:
    """Parse the tags this package relies on from a media playlist's text."""
    init: str | None = None
    segments: list[tuple[str, float]] = []
    pending: float | None = None
    ended = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-MAP:"):
            for part in line.split(":", 1)[1].split(","):
                key, _, value = part.partition("=")
                if key.strip() == "URI":
                    init = value.strip().strip('"')
        elif line.startswith("#EXTINF:"):
            pending = float(line.split(":", 1)[1].split(",")[0])
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif line and not line.startswith("#") and pending is not None:
            segments.append((line, pending))
            pending = None
    return MediaPlaylist(init=init, segments=tuple(segments), ended=ended)


def first_segments(text: str, count: int) -> str:
    """Return a media playlist's text cut after its first ``count`` segments.

    A playlist holding no more than ``count`` segments is returned whole (ENDLIST included), so
    a finished rendition stays finished.
    """
    if len(parse_media_playlist(text).segments) <= count:
        return text
    kept: list[str] = []
    seen = 0
    pending = False
    for raw in text.splitlines():
        kept.append(raw)
        line = raw.strip()
        if line.startswith("#EXTINF:"):
            pending = True
        elif line and not line.startswith("#") and pending:
            pending = False
            seen += 1
            if seen == count:
                break
    return "\n".join(kept) + "\n"


def finish_media_playlist(path: Path) -> None:
    """Turn ffmpeg's finished EVENT playlist into a VOD one that ends with #EXT-X-ENDLIST."""
    text = path.read_text()
    lines = [
        "#EXT-X-PLAYLIST-TYPE:VOD" if line.strip() == "#EXT-X-PLAYLIST-TYPE:EVENT" else line
        for line in text.splitlines()
    ]
    if "#EXT-X-ENDLIST" not in (line.strip() for line in lines):
        lines.append("#EXT-X-ENDLIST")
    write_atomic(path, "\n".join(lines) + "\n")


def avc_codec(init_segment: Path) -> str:
    """Return the RFC 6381 avc1 codec string from an init segment's avcC box."""
    data = init_segment.read_bytes()
    at = data.find(b"avcC")
    if at < 0 or len(data) < at + 8:
        return "avc1.640028"
    profile, compat, level = data[at + 5], data[at + 6], data[at + 7]
    return f"avc1.{profile:02x}{compat:02x}{level:02x}"


def aac_codec(init_segment: Path) -> str | None:
    """Return mp4a.40.2 when the init segment carries an AAC track, else None."""
    data = init_segment.read_bytes()
    return "mp4a.40.2" if b"mp4a" in data else None


@dataclass(frozen=True)
class VariantStats:
    """Describe a finished variant for the master playlist and the manifest."""

    plan: RenditionPlan
    playlist: str
    codecs: str
    bandwidth: int
    average_bandwidth: int
    duration_s: float


def variant_stats(hls_dir: Path, rendition: RenditionPlan) -> VariantStats:
    """Measure one rendition's playlist and segments."""
    folder = hls_dir / rendition.name
    media = read_media_playlist(folder / "index.m3u8")
    init_path = folder / (media.init or "init.mp4")
    codecs = [avc_codec(init_path)]
    audio = aac_codec(init_path)
    if audio:
        codecs.append(audio)
    peak = 0.0
    total_bytes = 0
    total_s = 0.0
    for name, duration in media.segments:
        size = os.stat(folder / name).st_size
        total_bytes += size
        total_s += duration
        # A last sliver of a segment says nothing about the peak rate.
        if duration >= 1.0 or len(media.segments) == 1:
            peak = max(peak, size * 8 / max(duration, 0.001))
    average = total_bytes * 8 / total_s if total_s else 0.0
    peak = max(peak, average)
    return VariantStats(
        plan=rendition,
        playlist=f"{rendition.name}/index.m3u8",
        codecs=",".join(codecs),
        bandwidth=int(peak * 1.05) + 1,
        average_bandwidth=int(average) + 1,
        duration_s=total_s,
    )


def master_text(variants: list[VariantStats], fps: float | None) -> str:
    """Return a master playlist listing every variant, largest first."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for v in variants:
        attrs = [
            f"BANDWIDTH={v.bandwidth}",
            f"AVERAGE-BANDWIDTH={v.average_bandwidth}",
            f'CODECS="{v.codecs}"',
            f"RESOLUTION={v.plan.width}x{v.plan.height}",
        ]
        if fps:
            attrs.append(f"FRAME-RATE={fps:.3f}")
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attrs))
        lines.append(v.playlist)
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write a small text file so readers never see half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
