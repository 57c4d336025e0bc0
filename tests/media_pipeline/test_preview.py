"""The encode path plays early: a growing HLS preview of the single encode's finished segments."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import m3u8
import pytest

from media_pipeline import FFMPEG_RUNS, ProcessSettings, Progress, preview, process
from media_pipeline.hls import finish_media_playlist, first_segments, parse_media_playlist
from tests.media_pipeline.conftest import ClipFactory, check_outputs

# One-second segments and a slower x264 preset make the 12 s encode last long enough for the
# preview to appear, then grow, before the encode ends.
SLOW = ProcessSettings(ladder=(360, 240), segment_s=1.0, preset="medium")

EVENT = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.000000,
seg_00000.m4s
#EXTINF:4.000000,
seg_00001.m4s
#EXTINF:1.500000,
seg_00002.m4s
"""


def test_first_segments_cuts_a_growing_playlist() -> None:
    cut = parse_media_playlist(first_segments(EVENT, 2))
    assert cut.init == "init.mp4"
    assert cut.segments == (("seg_00000.m4s", 4.0), ("seg_00001.m4s", 4.0))
    assert not cut.ended
    ended = EVENT + "#EXT-X-ENDLIST\n"
    assert first_segments(ended, 3) == ended
    assert first_segments(ended, 5) == ended
    assert not parse_media_playlist(first_segments(ended, 1)).ended


def test_finish_media_playlist_makes_vod_with_endlist(tmp_path: Path) -> None:
    path = tmp_path / "index.m3u8"
    for text in (EVENT, EVENT + "#EXT-X-ENDLIST\n"):
        path.write_text(text)
        finish_media_playlist(path)
        playlist = m3u8.load(str(path))
        assert playlist.playlist_type == "vod"
        assert playlist.is_endlist
        assert len(playlist.segments) == 3
        assert path.read_text().count("#EXT-X-ENDLIST") == 1


def slow_source(clip: ClipFactory) -> Path:
    """Return a 12 s VP9/Opus WebM: not browser-ready, so every rung is encoded."""
    return clip("preview.webm", duration=12, vcodec="libvpx-vp9", acodec="libopus")


def probe_segment(init: Path, segment: Path, scratch: Path) -> dict[str, str]:
    """Return ffprobe's video stream for init + segment, failing on any decoder complaint."""
    joined = scratch / f"{segment.parent.name}-{segment.stem}.mp4"
    joined.write_bytes(init.read_bytes() + segment.read_bytes())
    done = subprocess.run(
        [
            "/usr/bin/ffprobe",
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,nb_read_frames",
            "-of",
            "default=noprint_wrappers=1",
            joined,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr == ""
    return dict(line.split("=", 1) for line in done.stdout.split())


def test_encode_path_preview_is_playable_while_encoding(
    clip: ClipFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preview, "REPUBLISH_S", 0.5)
    source = slow_source(clip)
    out = tmp_path / "out"
    snapshot = tmp_path / "first-preview"
    seen: list[Progress] = []
    growth: list[int] = []  # top-rung segments in the preview at each update while encoding

    def on_progress(update: Progress) -> None:
        if update.playable and not any(p.playable for p in seen):
            shutil.copytree(out, snapshot)  # outdir as the player first finds it
        seen.append(update)
        if update.playable and update.stage == "encode":
            media = m3u8.load(str(out / "hls" / "360p" / "index.m3u8"))
            if not media.is_endlist:
                growth.append(len(media.segments))

    before = FFMPEG_RUNS.copy()
    manifest = process(source, out, SLOW, on_progress=on_progress)
    assert (FFMPEG_RUNS - before)["encode"] == 1
    assert [r.plan for r in manifest.renditions] == ["encode", "encode"]

    first = next(p for p in seen if p.playable)
    assert first.stage == "encode"
    assert first.percent < 90
    master = m3u8.load(str(snapshot / "hls" / "master.m3u8"))
    assert [v.stream_info.resolution for v in master.playlists] == [(640, 360), (426, 240)]
    for variant in master.playlists:
        assert variant.stream_info.codecs.startswith("avc1.")
        assert "mp4a.40.2" in variant.stream_info.codecs
        media = m3u8.load(str(snapshot / "hls" / variant.uri))
        assert media.playlist_type == "event"
        assert not media.is_endlist
        assert len(media.segments) >= preview.MIN_SEGMENTS
        folder = (snapshot / "hls" / variant.uri).parent
        files = {p.name for p in folder.iterdir()}
        assert files == {"index.m3u8", "init.mp4", *(s.uri for s in media.segments)}
        for segment in media.segments:
            stream = probe_segment(folder / "init.mp4", folder / segment.uri, tmp_path)
            assert stream["codec_name"] == "h264"
            # A complete segment holds all its frames (30 fps source).
            assert int(stream["nb_read_frames"]) == round(segment.duration * 30)
    assert (snapshot / "poster.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert not (snapshot / "manifest.json").exists()
    assert len(set(growth)) >= 2, growth  # the published EVENT playlist grew
    assert growth == sorted(growth)

    check_outputs(out, manifest, audio=True, segment_s=1.0)
    for rendition in manifest.renditions:
        media = m3u8.load(str(out / rendition.playlist))
        assert media.playlist_type == "vod"
        assert media.is_endlist
    assert math.isclose(manifest.duration_s, 12.0, abs_tol=0.25)
    timings = manifest.timings
    after_encode = timings["storyboard_s"] + timings["peaks_s"] + timings["mp4_s"]
    assert timings["time_to_playable_s"] < timings["total_s"] - after_encode
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
