"""Build ffmpeg argument lists with ffmpeg-python (the project's wrapper); nothing runs here.

Every function returns the arguments after the program name; ``runner.run`` adds the global,
progress and safety arguments. Every untrusted input is opened with ``runner.input_options``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ffmpeg

from media_pipeline.model import ProcessSettings
from media_pipeline.plan import Plan, RenditionPlan
from media_pipeline.runner import input_options, source_url

# Our own HLS output is read back (for video.mp4) with the hls demuxer; only ever on files this
# package wrote, never on an upload.
OWN_HLS_WHITELIST = "hls,mov,mp4,m4a,3gp,3g2,mj2"
AUDIO_RATE = 48000


def _args(node: Any) -> list[str]:
    return [str(a) for a in node.get_args()]


def hls_options(
    rendition: RenditionPlan, settings: ProcessSettings, playlist_type: str = "vod"
) -> dict[str, Any]:
    """Return the HLS muxer options for one rendition written below the working directory.

    ``event`` makes ffmpeg rewrite the media playlist (atomically: a temp file and a rename)
    after every finished segment, which the live preview reads; ``vod`` writes it once at the
    end. Either way the playlist ends with #EXT-X-ENDLIST when the input ends.
    """
    folder = f"hls/{rendition.name}"
    return {
        "f": "hls",
        "hls_time": f"{settings.segment_s:g}",
        "hls_playlist_type": playlist_type,
        "hls_segment_type": "fmp4",
        "hls_fmp4_init_filename": "init.mp4",
        "hls_flags": "independent_segments",
        "hls_segment_filename": f"{folder}/seg_%05d.m4s",
        "max_muxing_queue_size": "4096",
    }


def _audio_chain(audio: Any, plan: Plan) -> Any:
    """Resample to 48 kHz and, when asked, normalise loudness (EBU R128, one pass)."""
    if plan.loudnorm:
        audio = audio.filter("loudnorm", I=-16, TP=-1.5, LRA=11)
    return audio.filter("aresample", AUDIO_RATE)


def _audio_encode_options(settings: ProcessSettings) -> dict[str, Any]:
    return {"c:a": "aac", "b:a": "128k", "ac": 2, "ar": AUDIO_RATE}


def encode_args(
    source: Path, plan: Plan, renditions: tuple[RenditionPlan, ...], settings: ProcessSettings
) -> list[str]:
    """Return ONE ffmpeg command that decodes the source once and writes every rendition.

    The decoded picture is deinterlaced and made constant-rate once, then ``split`` feeds one
    scaler and one x264 per rendition. Keyframes are forced with the same expression in every
    rendition, so segment boundaries line up across the ladder.
    """
    inp = ffmpeg.input(source_url(source), **input_options())
    video = inp["v:0"]
    if plan.deinterlace:
        video = video.filter("bwdif", mode="send_frame", parity="auto", deint="interlaced")
    video = video.filter("fps", fps=plan.fps).filter("format", "yuv420p")
    branches = video.split() if len(renditions) > 1 else None
    audio_branches: Any = None
    if plan.has_audio:
        audio = _audio_chain(inp["a:0"], plan)
        audio_branches = (
            audio.filter_multi_output("asplit", len(renditions)) if len(renditions) > 1 else audio
        )
    keyframes = f"expr:gte(t,n_forced*{settings.segment_s:g})"
    outputs = []
    for i, r in enumerate(renditions):
        branch = branches[i] if branches is not None else video
        scaled = branch.filter("scale", r.width, r.height).filter("setsar", 1)
        streams = [scaled]
        if audio_branches is not None:
            streams.append(audio_branches[i] if len(renditions) > 1 else audio_branches)
        options: dict[str, Any] = {
            "c:v": "libx264",
            "preset": settings.preset,
            "profile:v": "high",
            "crf": 23,
            "maxrate": f"{r.video_kbps}k",
            "bufsize": f"{r.video_kbps * 2}k",
            "force_key_frames": keyframes,
            "threads": settings.threads,
            # A growing playlist per rung: the live preview publishes its finished segments.
            **hls_options(r, settings, "event"),
        }
        if audio_branches is not None:
            options.update(_audio_encode_options(settings))
        outputs.append(ffmpeg.output(*streams, f"hls/{r.name}/index.m3u8", **options))
    graph = ffmpeg.merge_outputs(*outputs)
    return ["-filter_complex_threads", str(settings.threads), *_args(graph)]


def remux_args(
    source: Path, plan: Plan, rendition: RenditionPlan, settings: ProcessSettings
) -> list[str]:
    """Return a command that stream-copies the source video into HLS segments.

    Segments start at the source's own keyframes (a copy cannot add any), so their lengths follow
    the phone's GOP rather than exactly ``segment_s``.
    """
    inp = ffmpeg.input(source_url(source), **input_options())
    streams = [inp["v:0"]]
    options: dict[str, Any] = {"c:v": "copy", **hls_options(rendition, settings)}
    if plan.has_audio:
        streams.append(_audio_chain(inp["a:0"], plan) if not plan.copy_audio else inp["a:0"])
        if plan.copy_audio:
            # MPEG-TS carries AAC as ADTS; MP4 segments need the raw form (no-op otherwise).
            options.update({"c:a": "copy", "bsf:a": "aac_adtstoasc"})
        else:
            options.update(_audio_encode_options(settings))
    return _args(ffmpeg.output(*streams, f"hls/{rendition.name}/index.m3u8", **options))


def mp4_args(playlist: str, output: str) -> list[str]:
    """Return a command that remuxes one of our HLS renditions into a faststart MP4."""
    inp = ffmpeg.input(playlist, format_whitelist=OWN_HLS_WHITELIST, protocol_whitelist="file")
    return _args(
        ffmpeg.output(inp, output, c="copy", movflags="+faststart", f="mp4", map_metadata=-1)
    )


def _upright_filters(node: Any, interlaced: bool) -> Any:
    if interlaced:
        node = node.filter("bwdif", mode="send_frame", parity="auto", deint="interlaced")
    return node


def poster_args(source: Path, at_s: float, interlaced: bool, output: str) -> list[str]:
    """Return a command that seeks to one frame and writes it as a JPEG (~0.2 s)."""
    inp = ffmpeg.input(source_url(source), ss=f"{at_s:.3f}", **input_options())
    video = _upright_filters(inp["v:0"], interlaced)
    video = video.filter(
        "scale", w="min(iw,1280)", h="min(ih,1280)", force_original_aspect_ratio="decrease"
    )
    return _args(ffmpeg.output(video, output, frames="1", **{"q:v": 3, "update": 1}))


def thumbs_args(
    source: Path,
    interval_s: float,
    width: int,
    height: int,
    interlaced: bool,
    pattern: str,
    keyframes_only: bool = True,
) -> list[str]:
    """Return a command that writes one thumbnail per interval, decoding keyframes only."""
    skip = {"skip_frame": "nokey"} if keyframes_only else {}
    inp = ffmpeg.input(source_url(source), **skip, **input_options())
    video = _upright_filters(inp["v:0"], interlaced)
    video = video.filter("fps", fps=f"1/{interval_s:g}", eof_action="pass").filter(
        "scale", width, height
    )
    return _args(ffmpeg.output(video, pattern, **{"q:v": 5, "fps_mode": "passthrough"}))


def tile_args(pattern: str, columns: int, rows: int, output: str) -> list[str]:
    """Return a command that packs our own thumbnails into sprite sheets."""
    inp = ffmpeg.input(pattern, f="image2", format_whitelist="image2", protocol_whitelist="file")
    video = inp.filter("tile", f"{columns}x{rows}")
    return _args(ffmpeg.output(video, output, **{"q:v": 5, "fps_mode": "passthrough"}))


def pcm_args(source: Path, sample_rate: int, output: str) -> list[str]:
    """Return a command that decodes audio only (-vn) into mono 16-bit PCM for peaks."""
    inp = ffmpeg.input(source_url(source), vn=None, **input_options())
    return _args(
        ffmpeg.output(inp["a:0"], output, f="s16le", ac=1, ar=sample_rate, **{"c:a": "pcm_s16le"})
    )
