"""Measure live lessons: the gateway's CPU and memory for one 1280x720 30 fps ingest recorded
with two viewers, the glass-to-glass delay, and how many ingests one machine holds.

The publisher draws each frame itself and burns the send time into it as a 32-bit barcode of
big blocks; the viewers read the barcode back from the decoded frames, so the delay covers
encode, network, the gateway's relay, decode. Publishers and viewers are aiortc peers on
the same machine (their VP8 encoding competes for the same cores as the gateway; the figures
say so). Starts a real `loupe serve --no-worker`. Run by hand:

    .venv/bin/python benchmarks/live.py [--seconds 20] [--max-ingests 6]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import av
import requests
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from harness import gateway_pid, proc_stats, serve, session

W, H, FPS = 1280, 720, 30
BLOCK, BITS = 40, 32
PEOPLE = [
    "ana.lopez@riverbend.example",
    "ben.carter@riverbend.example",
    "priya.nair@riverbend.example",
    "sam.wilson@riverbend.example",
    "maya.chen@riverbend.example",
    "david.okafor@riverbend.example",
]


class StampedCamera(VideoStreamTrack):
    """720p frames with a moving bar (work for the encoder) and the send time as a barcode."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0
        self.chroma = bytes(b"\x80" * (W * H // 4))

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        bar = (self.n * 8) % (W - 120)
        row = b"\x50" * bar + b"\xd0" * 120 + b"\x50" * (W - bar - 120)
        stamp = int(time.time() * 1000) & 0xFFFFFFFF
        code = b"".join(
            (b"\xeb" if stamp >> (BITS - 1 - bit) & 1 else b"\x10") * BLOCK for bit in range(BITS)
        )
        code_row = code + b"\x50" * (W - len(code))
        luma = code_row * BLOCK + b"\x50" * (W * BLOCK) + row * (H - 2 * BLOCK)
        frame = av.VideoFrame(W, H, "yuv420p")
        frame.planes[0].update(luma)
        frame.planes[1].update(self.chroma)
        frame.planes[2].update(self.chroma)
        frame.pts, frame.time_base = pts, time_base
        self.n += 1
        return frame


def read_stamp(frame: Any) -> int:
    """Return the send time (ms, 32 bits) read from a received frame's barcode."""
    plane = frame.planes[0]
    data = bytes(plane)
    scale = frame.width / W
    value = 0
    for bit in range(BITS):
        x = int((bit * BLOCK + BLOCK // 2) * scale)
        y = int(BLOCK // 2 * scale)
        value = value << 1 | (data[y * plane.line_size + x] > 128)
    return value


async def go_live(url: str, http: requests.Session) -> tuple[RTCPeerConnection, int]:
    pc = RTCPeerConnection()
    pc.addTrack(StampedCamera())
    await pc.setLocalDescription(await pc.createOffer())
    answer = await asyncio.to_thread(
        http.post,
        f"{url}/api/live/whip",
        params={"title": "Benchmark"},
        data=pc.localDescription.sdp,
        headers={"Content-Type": "application/sdp"},
    )
    answer.raise_for_status()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.text, type="answer"))
    return pc, int(answer.headers["Loupe-Stream-Id"])


async def watch(url: str, http: requests.Session, stream_id: int, delays: list[float]) -> Any:
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")

    @pc.on("track")
    def on_track(track: Any) -> None:
        async def pull() -> None:
            while True:
                try:
                    frame = await track.recv()
                except Exception:
                    return
                now = int(time.time() * 1000) & 0xFFFFFFFF
                delays.append((now - read_stamp(frame)) & 0xFFFFFFFF)

        pc.tasks = asyncio.ensure_future(pull())  # type: ignore[attr-defined]

    await pc.setLocalDescription(await pc.createOffer())
    answer = await asyncio.to_thread(
        http.post,
        f"{url}/api/live/{stream_id}/whep",
        data=pc.localDescription.sdp,
        headers={"Content-Type": "application/sdp"},
    )
    answer.raise_for_status()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.text, type="answer"))
    return pc


async def measure(url: str, gw: int, health: str, seconds: float, ingests: int) -> None:
    teachers = [session(url, PEOPLE[i]) for i in range(ingests)]
    cpu0, rss0 = proc_stats(gw)
    dropped0 = 0
    publishers = [await go_live(url, h) for h in teachers]
    delays: list[float] = []
    viewers = []
    if ingests == 1:
        coach = session(url, "maya.chen@riverbend.example")
        viewers = [await watch(url, coach, publishers[0][1], delays) for _ in range(2)]
    began = time.perf_counter()
    peak = rss0
    while time.perf_counter() - began < seconds:
        await asyncio.sleep(0.5)  # sampling the gateway while the lesson runs
        peak = max(peak, proc_stats(gw)[1])
    cpu1, _ = proc_stats(gw)
    dropped = requests.get(health, timeout=10).json()["live_dropped_frames"] - dropped0
    for pc in viewers:
        await pc.close()
    for pc, _ in publishers:
        await pc.close()
    share = (cpu1 - cpu0) / seconds * 100
    line = (
        f"{ingests} ingest(s) of 1280x720@30 for {seconds:.0f} s: gateway {share:.0f}% of one "
        f"core, RSS {rss0 / 1024:.0f} -> peak {peak / 1024:.0f} MB, recorder dropped {dropped} "
        "frames"
    )
    if delays:
        settled = sorted(delays[len(delays) // 5 :])  # after the first second of start-up
        line += (
            f"; 2 viewers: glass-to-glass median {statistics.median(settled):.0f} ms, "
            f"p95 {settled[int(len(settled) * 0.95)]:.0f} ms, "
            f"{len(delays) / seconds / 2:.0f} fps per viewer"
        )
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--max-ingests", type=int, default=4)
    parser.add_argument("--port", type=int, default=5093)
    args = parser.parse_args()
    with serve(
        args.port,
        prefix="loupe-live-bench-",
        LOUPE_LIVE_GRACE_SECONDS="1",
        LOUPE_LOGIN_RATE_LIMIT="1000 per minute",
    ) as server:
        health = f"{server.gateway}/v1/health"
        gw = gateway_pid(server.pid)
        for ingests in range(1, args.max_ingests + 1):
            asyncio.run(measure(server.url, gw, health, args.seconds, ingests))
            while requests.get(health, timeout=10).json()["live_streams"]:
                time.sleep(0.5)  # the grace period of the streams just closed


if __name__ == "__main__":
    main()
