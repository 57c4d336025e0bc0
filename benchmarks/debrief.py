"""Measure live debriefs: join to first remote frame, playback sync latency, and the recording
gateway's CPU and memory (two 640x480 participants), plus its memory over 100 join/leave
cycles.

Starts a real `loupe serve --no-worker` (web, Socket.IO and the rtc gateway) on a throwaway
data folder; the participants are aiortc peers signed in as the demo coach and teacher. Run
by hand:

    .venv/bin/python benchmarks/debrief.py [--record-seconds 20] [--cycles 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

import requests
import socketio
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from harness import gateway_pid, proc_stats, serve, session

COACH, TEACHER = "maya.chen@riverbend.example", "ana.lopez@riverbend.example"


def camera() -> Any:
    return MediaPlayer("testsrc=size=640x480:rate=30", format="lavfi")


def microphone() -> Any:
    return MediaPlayer("sine=frequency=440:sample_rate=48000", format="lavfi")


class Peer:
    """A member in the room: Socket.IO signaling plus one aiortc connection with a camera."""

    def __init__(self, url: str, http: requests.Session, debrief_id: int) -> None:
        self.url, self.http, self.debrief_id = url, http, debrief_id
        self.sio = socketio.AsyncClient(reconnection=False)
        self.pc: RTCPeerConnection | None = None
        self.first_frame = asyncio.get_event_loop().create_future()
        self.playback: asyncio.Queue[float] = asyncio.Queue()
        self.tasks: set[asyncio.Task[None]] = set()
        self.sio.on("debrief.peer_joined", self._offer)
        self.sio.on("debrief.signal", self._signal)
        self.sio.on("debrief.playback", self._playback)

    async def _playback(self, data: dict[str, Any]) -> None:
        await self.playback.put(time.perf_counter())

    def _peer(self) -> RTCPeerConnection:
        pc = RTCPeerConnection()
        pc.addTrack(camera().video)

        @pc.on("track")
        def on_track(track: Any) -> None:
            async def first() -> None:
                await track.recv()
                if not self.first_frame.done():
                    self.first_frame.set_result(time.perf_counter())

            self.tasks.add(asyncio.ensure_future(first()))

        self.pc = pc
        return pc

    async def _offer(self, data: dict[str, Any]) -> None:
        pc = self._peer()
        await pc.setLocalDescription(await pc.createOffer())
        await self._send(data["sid"], pc.localDescription)

    async def _signal(self, data: dict[str, Any]) -> None:
        description = data.get("description")
        if description and description["type"] == "offer":
            pc = self._peer()
            await pc.setRemoteDescription(RTCSessionDescription(**description))
            await pc.setLocalDescription(await pc.createAnswer())
            await self._send(data["from"], pc.localDescription)
        elif description and self.pc is not None:
            await self.pc.setRemoteDescription(RTCSessionDescription(**description))

    async def _send(self, to: str, d: Any) -> None:
        await self.sio.call(
            "debrief.signal",
            {
                "debrief_id": self.debrief_id,
                "to": to,
                "description": {"type": d.type, "sdp": d.sdp},
            },
        )

    async def join(self) -> None:
        await self.sio.connect(
            self.url,
            headers={"Cookie": f"loupe_session={self.http.cookies['loupe_session']}"},
            transports=["websocket"],
        )
        answer = await self.sio.call("debrief.join", {"debrief_id": self.debrief_id})
        assert answer["ok"], answer

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        await self.sio.disconnect()


async def publish(url: str, http: requests.Session, debrief_id: int) -> RTCPeerConnection:
    pc = RTCPeerConnection()
    pc.addTrack(camera().video)
    pc.addTrack(microphone().audio)
    await pc.setLocalDescription(await pc.createOffer())
    answer = await asyncio.to_thread(
        http.post,
        f"{url}/api/debriefs/{debrief_id}/recording/offer",
        json={"sdp": pc.localDescription.sdp},
    )
    answer.raise_for_status()
    body = answer.json()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type=body["type"]))
    return pc


async def run(url: str, server_pid: int, lesson: int, record_s: float, cycles: int) -> None:
    coach, teacher = session(url, COACH), session(url, TEACHER)

    def new_debrief() -> int:
        made = coach.post(f"{url}/api/debriefs", json={"video_id": lesson})
        made.raise_for_status()
        return int(made.json()["id"])

    # 1. Join to first remote frame, five times.
    firsts = []
    for _ in range(5):
        debrief_id = new_debrief()
        a, b = Peer(url, teacher, debrief_id), Peer(url, coach, debrief_id)
        await a.join()
        started = time.perf_counter()
        await b.join()
        got = await asyncio.wait_for(asyncio.gather(a.first_frame, b.first_frame), 30)
        firsts.append((max(got) - started) * 1000)
        # 2. Sync: the coach presses play; the time until the teacher hears of it.
        lags = []
        for i in range(20):
            sent = time.perf_counter()
            await b.sio.call(
                "debrief.playback",
                {"debrief_id": debrief_id, "playing": i % 2 == 0, "position": 60.0 + i},
            )
            lags.append((await asyncio.wait_for(a.playback.get(), 5) - sent) * 1000)
        await a.close()
        await b.close()
    print(
        f"join -> first remote frame (both sides): median {statistics.median(firsts):.0f} ms, "
        f"max {max(firsts):.0f} ms"
    )
    print(
        f"playback sync (coach -> server -> teacher): median {statistics.median(lags):.1f} ms, "
        f"max {max(lags):.1f} ms (target < 200 ms)"
    )

    # 3. The gateway recording two 640x480 participants.
    gw = gateway_pid(server_pid)
    debrief_id = new_debrief()
    coach.post(f"{url}/api/debriefs/{debrief_id}/recording").raise_for_status()
    teacher.post(
        f"{url}/api/debriefs/{debrief_id}/recording/consent", json={"agree": True}
    ).raise_for_status()
    cpu0, rss0 = proc_stats(gw)
    peers = [await publish(url, h, debrief_id) for h in (coach, teacher)]
    began = time.perf_counter()
    peak = rss0
    while time.perf_counter() - began < record_s:
        await asyncio.sleep(0.5)  # sampling the gateway's memory while it records
        peak = max(peak, proc_stats(gw)[1])
    cpu1, _ = proc_stats(gw)
    stop = await asyncio.to_thread(coach.delete, f"{url}/api/debriefs/{debrief_id}/recording")
    stop.raise_for_status()
    for pc in peers:
        await pc.close()
    health = requests.get(
        f"http://127.0.0.1:{os.environ['LOUPE_RTC_PORT']}/v1/health", timeout=10
    ).json()
    print(
        f"gateway recording 2 x 640x480@30 + audio for {record_s:.0f} s: "
        f"{(cpu1 - cpu0) / record_s * 100:.0f}% of one core, RSS {rss0 / 1024:.0f} -> "
        f"peak {peak / 1024:.0f} MB, dropped frames {health['dropped_frames']}"
    )

    # 4. Memory over join/leave cycles: publish for a moment, stop, again and again.
    samples = []
    for i in range(cycles):
        debrief_id = new_debrief()
        coach.post(f"{url}/api/debriefs/{debrief_id}/recording").raise_for_status()
        teacher.post(
            f"{url}/api/debriefs/{debrief_id}/recording/consent", json={"agree": True}
        ).raise_for_status()
        pc = await publish(url, teacher, debrief_id)
        await pc.close()
        coach.post(f"{url}/api/debriefs/{debrief_id}/end").raise_for_status()
        if i % 10 == 9:
            samples.append(proc_stats(gw)[1] / 1024)
    print(
        f"gateway RSS over {cycles} join/leave cycles (every 10th): "
        + ", ".join(f"{s:.0f}" for s in samples)
        + " MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record-seconds", type=float, default=20)
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--port", type=int, default=5095)
    args = parser.parse_args()
    with serve(args.port, prefix="loupe-debrief-bench-") as server:
        from app import create_app
        from app.accounts import service as accounts
        from app.lessons import service as videos

        with create_app().app_context():
            ana = accounts.find_user_by_email(TEACHER)
            assert ana is not None
            lesson = videos.create_video(ana, title="Benchmark lesson").id
            videos.share_video(ana, lesson, COACH, "comment")
        asyncio.run(run(server.url, server.pid, lesson, args.record_seconds, args.cycles))


if __name__ == "__main__":
    main()
