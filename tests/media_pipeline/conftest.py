"""Shared fixtures: clips made with lavfi once per session, and output validators."""

from __future__ import annotations

import itertools
import json
import math
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import m3u8
import pytest
import webvtt

from media_pipeline import Manifest
from media_pipeline.synth import make_clip

ClipFactory = Callable[..., Path]


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> ClipFactory:
    """Return a factory that makes (and caches per session) a named clip."""
    folder = tmp_path_factory.mktemp("clips")
    made: dict[str, Path] = {}

    def factory(name: str, **options: Any) -> Path:
        if name not in made:
            made[name] = make_clip(folder / name, **options)
        return made[name]

    return factory


@pytest.fixture
def h264_clip(clip: ClipFactory) -> Path:
    """Return a 6 s 640x360 H.264/AAC phone-like MP4."""
    return clip("h264.mp4", duration=6, gop=30)


def ffprobe(path: Path) -> dict[str, Any]:
    """Return ffprobe's streams and format for an output file (trusted: our own output)."""
    done = subprocess.run(
        ["/usr/bin/ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path],
        capture_output=True,
        check=True,
    )
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def top_level_boxes(path: Path) -> list[str]:
    """Return the ISO BMFF top-level box types of a file, in order."""
    kinds = []
    with path.open("rb") as fh:
        while header := fh.read(8):
            size, kind = struct.unpack(">I4s", header)
            kinds.append(kind.decode("latin-1"))
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0] - 8
            fh.seek(size - 8, 1)
    return kinds


def seconds(stamp: str) -> float:
    """Return seconds from a WebVTT timestamp (webvtt-py's *_in_seconds truncate)."""
    hours, minutes, secs = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(secs)


def check_outputs(outdir: Path, manifest: Manifest, *, audio: bool, segment_s: float = 4.0) -> None:
    """Validate every published output against the manifest and the formats' rules."""
    duration = manifest.source.duration_s
    on_disk = json.loads((outdir / "manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(manifest.to_dict()))
    listed = {f.path for f in manifest.files}
    actual = {
        p.relative_to(outdir).as_posix()
        for p in outdir.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert listed == actual
    assert not [p for p in outdir.parent.iterdir() if p.name.startswith(f".{outdir.name}.")]

    master = m3u8.load(str(outdir / "hls" / "master.m3u8"))
    assert master.is_variant
    assert len(master.playlists) == len(manifest.renditions)
    for variant, rendition in zip(master.playlists, manifest.renditions, strict=True):
        info = variant.stream_info
        assert info.bandwidth > 0
        assert info.resolution == (rendition.width, rendition.height)
        assert info.codecs == rendition.codecs
        assert info.codecs.startswith("avc1.")
        assert ("mp4a.40.2" in info.codecs) == audio
        assert rendition.width % 2 == 0
        assert rendition.height % 2 == 0
        media = m3u8.load(str(outdir / "hls" / variant.uri))
        assert media.is_endlist
        assert media.segment_map
        durations = [s.duration for s in media.segments]
        assert math.isclose(sum(durations), duration, abs_tol=0.25)
        if rendition.plan == "encode":
            # Forced keyframes: every segment but the last is exactly segment_s long.
            assert all(abs(d - segment_s) < 0.1 for d in durations[:-1]), durations
        for segment in media.segments:
            assert (outdir / "hls" / Path(variant.uri).parent / segment.uri).stat().st_size > 0

    mp4 = outdir / "video.mp4"
    boxes = top_level_boxes(mp4)
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    probe = ffprobe(mp4)
    streams = {s["codec_type"]: s for s in probe["streams"]}
    top = manifest.renditions[0]
    assert streams["video"]["codec_name"] == "h264"
    assert (streams["video"]["width"], streams["video"]["height"]) == (top.width, top.height)
    assert math.isclose(float(probe["format"]["duration"]), duration, abs_tol=0.25)
    if audio:
        assert streams["audio"]["codec_name"] == "aac"
    else:
        assert "audio" not in streams

    assert (outdir / "poster.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    cues = webvtt.read(str(outdir / "storyboard.vtt")).captions
    assert cues
    assert seconds(cues[0].start) == 0
    assert math.isclose(seconds(cues[-1].end), duration, abs_tol=0.01)
    for before, after in itertools.pairwise(cues):
        assert seconds(before.end) == seconds(after.start)
    for cue in cues:
        name, _, fragment = cue.text.partition("#xywh=")
        x, y, w, h = (int(v) for v in fragment.split(","))
        assert (outdir / name).is_file()
        assert w == 160
        assert h > 0
        assert x % w == 0
        assert y % h == 0

    peaks = json.loads((outdir / "peaks.json").read_text())
    assert peaks["version"] == 2
    assert peaks["channels"] == 1
    assert peaks["bits"] == 8
    assert len(peaks["data"]) == 2 * peaks["length"]
    assert all(-128 <= v <= 127 for v in peaks["data"])
    if audio:
        assert peaks["length"] > 0
        assert max(peaks["data"]) > 0
    else:
        assert peaks["length"] == 0
