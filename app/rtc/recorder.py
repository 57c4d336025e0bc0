"""Record one incoming WebRTC track to a file without ever blocking the event loop.

The event loop only pulls decoded frames and puts them in a bounded queue; a thread encodes
them (PyAV: H.264 for video, PCM for audio, Matroska files). When the encoder falls behind,
video frames are dropped (and counted) instead of memory growing.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

log = logging.getLogger("loupe.rtc.recorder")
VIDEO_QUEUE = 30  # about a second of video
AUDIO_QUEUE = 250  # about five seconds of 20 ms audio frames: audio is cheap, never drop it
_STOP = object()


class TrackRecorder:
    """Encode the frames of one track into one file, on a thread of its own."""

    def __init__(self, path: Path, kind: str, epoch: float) -> None:
        self.path = path
        self.kind = kind
        self.epoch = epoch  # the call's start (time.monotonic()); offsets are measured from it
        self.offset_s: float | None = None  # when the first frame arrived, after the epoch
        self.last_s: float | None = None
        self.frames = 0
        self.dropped = 0
        self.failed: str | None = None
        self.size: tuple[int, int] | None = None  # a video's recorded width and height
        self._queue: queue.Queue[Any] = queue.Queue(VIDEO_QUEUE if kind == "video" else AUDIO_QUEUE)
        self._thread = threading.Thread(target=self._encode, name=f"rec-{path.name}", daemon=True)
        self._thread.start()

    def push(self, frame: Any) -> None:
        """Queue a decoded frame (called on the event loop; never blocks)."""
        now = time.monotonic() - self.epoch
        if self.offset_s is None:
            self.offset_s = now
        self.last_s = now
        try:
            self._queue.put_nowait((now, frame))
        except queue.Full:
            self.dropped += 1

    def close(self, timeout: float = 30.0) -> None:
        """Finish the file: encode what is queued, flush and close (blocks: run off the loop)."""
        if self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put(_STOP, timeout=timeout)
            self._thread.join(timeout)

    # --- the encoding thread ---------------------------------------------------------------

    def _encode(self) -> None:
        container: Any = None
        stream: Any = None
        resampler: Any = None
        size: tuple[int, int] | None = None
        next_pts = 0
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                arrived, frame = item
                if container is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    container = av.open(str(self.path), mode="w", format="matroska")
                    if self.kind == "video":
                        size = (frame.width - frame.width % 2, frame.height - frame.height % 2)
                        self.size = size
                        stream = container.add_stream("libx264", rate=30)
                        stream.width, stream.height = size
                        stream.pix_fmt = "yuv420p"
                        stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
                        stream.codec_context.time_base = Fraction(1, 1000)
                    else:
                        stream = container.add_stream("pcm_s16le", rate=48000, layout="stereo")
                        resampler = av.AudioResampler(format="s16", layout="stereo", rate=48000)
                if self.kind == "video":
                    assert size is not None
                    image = frame.reformat(width=size[0], height=size[1], format="yuv420p")
                    # Arrival time, in ms after the first frame: real pacing, gaps kept.
                    pts = max(next_pts, int((arrived - (self.offset_s or 0.0)) * 1000))
                    image.pts, image.time_base = pts, Fraction(1, 1000)
                    next_pts = pts + 1
                    for packet in stream.encode(image):
                        container.mux(packet)
                else:
                    for chunk in resampler.resample(frame):
                        chunk.pts, chunk.time_base = next_pts, Fraction(1, 48000)
                        next_pts += chunk.samples
                        for packet in stream.encode(chunk):
                            container.mux(packet)
                self.frames += 1
            if container is not None:
                for packet in stream.encode(None):
                    container.mux(packet)
        except Exception as exc:  # recorded for the call's owner; the loop goes on
            self.failed = f"{type(exc).__name__}: {exc}"
            log.exception("recording %s failed", self.path)
        finally:
            if container is not None:
                with contextlib.suppress(Exception):
                    container.close()
