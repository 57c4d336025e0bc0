"""Live lessons in the gateway: one publisher (WHIP) recorded to disk and relayed to viewers
(WHEP). A publisher whose connection drops may come back within the grace period and the
lesson continues; after it, or when the teacher ends it, the recording is handed to a worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

from app.rtc import folders
from app.rtc.recorder import TrackRecorder

log = logging.getLogger("loupe.rtc.live")
# (stream id, what happened, the id of the recording's manifest when it ended with tracks)
Notify = Callable[[int, str, str | None], Awaitable[None]]


class LiveError(Exception):
    """A request the live hub refuses; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Publisher:
    id: str
    pc: RTCPeerConnection
    recorders: list[TrackRecorder] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    connected: bool = True


@dataclass
class Viewer:
    """One person's WHEP session: the web app named the person when it was opened."""

    user_id: int
    pc: RTCPeerConnection


@dataclass
class Stream:
    """One live lesson in the gateway."""

    id: int
    folder: Path
    epoch: float = field(default_factory=time.monotonic)
    publishers: list[Publisher] = field(default_factory=list)
    viewers: dict[str, Viewer] = field(default_factory=dict)
    tracks: dict[str, Any] = field(default_factory=dict)  # kind -> the live remote track
    relay: MediaRelay = field(default_factory=MediaRelay)
    grace: asyncio.Task[None] | None = None

    @property
    def on_air(self) -> bool:
        return any(p.connected for p in self.publishers)


async def _pump(track: Any, recorder: TrackRecorder) -> None:
    with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
        while True:
            recorder.push(await track.recv())


class LiveHub:
    """Every live lesson of this gateway."""

    def __init__(self, data_dir: Path, grace_s: float, notify: Notify) -> None:
        self.data_dir = data_dir
        self.grace_s = grace_s
        self.notify = notify
        self.streams: dict[int, Stream] = {}

    async def publish(self, stream_id: int, sdp: str) -> dict[str, Any]:
        """Start (or resume, within the grace period) a stream from a WHIP offer."""
        stream = self.streams.get(stream_id)
        if stream is not None and stream.on_air:
            raise LiveError(409, "This lesson is already being streamed.")
        resumed = stream is not None
        if stream is None:
            stream = Stream(stream_id, folders.folder(self.data_dir, "live", stream_id))
            self.streams[stream_id] = stream
        elif stream.grace is not None:
            stream.grace.cancel()
            stream.grace = None
        publisher = Publisher(uuid.uuid4().hex[:12], RTCPeerConnection())
        pc = publisher.pc
        live = stream

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind not in ("audio", "video"):
                return
            live.tracks[track.kind] = track
            n = len(live.publishers)
            recorder = TrackRecorder(
                live.folder / f"{n:02d}-{publisher.id}-{track.kind}.mkv", track.kind, live.epoch
            )
            publisher.recorders.append(recorder)
            source = live.relay.subscribe(track, buffered=False)
            publisher.tasks.append(asyncio.create_task(_pump(source, recorder)))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and publisher.connected:
                publisher.connected = False
                if self.streams.get(live.id) is live:
                    log.info("live %s: the publisher dropped; waiting %gs", live.id, self.grace_s)
                    await self.notify(live.id, "interrupted", None)
                    live.grace = asyncio.create_task(self._expire(live))

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # aiortc raises several kinds on a bad offer
            await pc.close()
            if not stream.publishers:
                self.streams.pop(stream_id, None)
            raise LiveError(400, f"The offer could not be used: {exc}") from exc
        stream.publishers.append(publisher)
        if resumed:
            await self.notify(stream_id, "resumed", None)
        answer = pc.localDescription
        return {"sdp": answer.sdp, "type": answer.type, "session": publisher.id}

    async def watch(self, stream_id: int, sdp: str, user_id: int) -> dict[str, Any]:
        """Answer a person's WHEP offer with the stream's live tracks."""
        stream = self.streams.get(stream_id)
        if stream is None or not stream.tracks:
            raise LiveError(404, "This lesson is not live.")
        pc = RTCPeerConnection()
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            # After the offer, so each track takes the viewer's receive-only slot of its kind.
            # Unbuffered: a slow viewer skips frames instead of growing the gateway's memory.
            for track in stream.tracks.values():
                pc.addTrack(stream.relay.subscribe(track, buffered=False))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await pc.close()
            raise LiveError(400, f"The offer could not be used: {exc}") from exc
        session = uuid.uuid4().hex[:12]
        stream.viewers[session] = Viewer(user_id, pc)
        live = stream

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            # A viewer that went away leaves nothing behind (the relay stops feeding it).
            if pc.connectionState in ("failed", "closed"):
                viewer = live.viewers.get(session)
                if viewer is not None and viewer.pc is pc:
                    live.viewers.pop(session, None)
                    await pc.close()

        answer = pc.localDescription
        return {"sdp": answer.sdp, "type": answer.type, "session": session}

    async def stop_watching(self, stream_id: int, session: str, user_id: int) -> None:
        """End one of the person's viewer sessions."""
        stream = self.streams.get(stream_id)
        viewer = stream.viewers.get(session) if stream else None
        if stream is None or viewer is None or viewer.user_id != user_id:
            raise LiveError(404, "No such viewer session.")
        stream.viewers.pop(session, None)
        await viewer.pc.close()

    async def keep_viewers(self, stream_id: int, allowed: set[int]) -> dict[str, Any]:
        """Close at once every viewer session of a person not in `allowed` (access ended)."""
        stream = self.streams.get(stream_id)
        if stream is None:
            return {"closed": 0}
        gone = [s for s, v in stream.viewers.items() if v.user_id not in allowed]
        pcs = [stream.viewers.pop(s).pc for s in gone]
        await asyncio.gather(*(pc.close() for pc in pcs))
        if gone:
            log.info("live %s: closed %d viewer sessions whose access ended", stream_id, len(gone))
        return {"closed": len(gone)}

    async def end(self, stream_id: int) -> dict[str, Any]:
        """End a stream now and return its recording."""
        stream = self.streams.pop(stream_id, None)
        if stream is None:
            raise LiveError(404, "This lesson is not live.")
        return await self._finish(stream)

    async def _expire(self, stream: Stream) -> None:
        await asyncio.sleep(self.grace_s)  # the grace period itself, not a synchronisation
        if self.streams.get(stream.id) is stream and not stream.on_air:
            self.streams.pop(stream.id, None)
            result = await self._finish(stream)
            await self.notify(stream.id, "ended", result.get("manifest"))

    async def _finish(self, stream: Stream) -> dict[str, Any]:
        if stream.grace is not None:
            stream.grace.cancel()
        duration = time.monotonic() - stream.epoch
        for pc in [p.pc for p in stream.publishers] + [v.pc for v in stream.viewers.values()]:
            await pc.close()
        for publisher in stream.publishers:
            for task in publisher.tasks:
                task.cancel()
        recorders = [r for p in stream.publishers for r in p.recorders]
        await asyncio.gather(*(asyncio.to_thread(r.close) for r in recorders))
        tracks = [
            {
                "segment": i,
                "kind": r.kind,
                "path": str(r.path),
                "offset_s": round(r.offset_s or 0.0, 3),
                "size": list(r.size) if r.size else None,
                "frames": r.frames,
                "dropped": r.dropped,
            }
            for i, p in enumerate(stream.publishers)
            for r in p.recorders
            if r.frames > 0 and r.path.exists()
        ]
        log.info("live %s ended: %.1fs, %d tracks", stream.id, duration, len(tracks))
        result: dict[str, Any] = {
            "stream_id": stream.id,
            "duration_s": round(duration, 3),
            "tracks": tracks,
        }
        if tracks:
            result["manifest"] = folders.write_result(stream.folder, result)
        return result

    def counts(self) -> dict[str, int]:
        """Return how many streams, publishers and viewers are live."""
        return {
            "live_streams": len(self.streams),
            "live_viewers": sum(len(s.viewers) for s in self.streams.values()),
            "live_dropped_frames": sum(
                r.dropped for s in self.streams.values() for p in s.publishers for r in p.recorders
            ),
        }

    async def shutdown(self) -> None:
        """End every stream, handing each recording on."""
        for stream_id in list(self.streams):
            stream = self.streams.pop(stream_id)
            result = await self._finish(stream)
            await self.notify(stream_id, "ended", result.get("manifest"))
