"""A live viewer whose access ends stops receiving the classroom at once.

Real `loupe serve` (web, worker, gateway), an aiortc WHIP publisher and an aiortc WHEP viewer
counting frames: after a revoke, a deactivation or the lesson's deletion the viewer's
connection closes within a second and no frame arrives after it; a deleted lesson's stream
ends. WHEP sessions belong to the person they were opened for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer

from app.accounts import service as accounts
from app.accounts import tokens as api_tokens
from app.demo import DEMO_PASSWORD
from app.lessons import service as videos
from tests.conftest import LiveServer, ffmpeg_available, need, start_server, stop_server, wait_until

TEACHER = "ana.lopez@riverbend.example"  # on Maya Chen's caseload: her lessons are shared
COACH = "maya.chen@riverbend.example"
OTHER_COACH = "david.okafor@riverbend.example"
ADMIN = "admin@riverbend.example"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    need(ffmpeg_available(), "no ffmpeg (apt-get install ffmpeg)")
    live = start_server(tmp_path / "live", demo=True, LOUPE_LIVE_GRACE_SECONDS="30")
    yield live
    stop_server(live)


def gateway_health(server: LiveServer) -> dict[str, Any]:
    url = f"http://127.0.0.1:{server.env['LOUPE_RTC_PORT']}/v1/health"
    health: dict[str, Any] = requests.get(url, timeout=5).json()
    return health


async def offer(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


class Viewer:
    """An aiortc WHEP viewer that counts the video frames it receives."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")
        self.frames = 0
        self.enough = asyncio.Event()
        self.closed = asyncio.Event()
        self.closed_at = 0.0
        self.tasks: set[asyncio.Future[None]] = set()
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    def _on_track(self, track: Any) -> None:
        if track.kind != "video":
            return

        async def pull() -> None:
            while True:
                try:
                    await track.recv()
                except Exception:  # the track ended with the connection
                    return
                self.frames += 1
                if self.frames >= 15:
                    self.enough.set()

        self.tasks.add(asyncio.ensure_future(pull()))

    async def _on_state(self) -> None:
        if self.pc.connectionState in ("closed", "failed") and not self.closed.is_set():
            self.closed_at = time.monotonic()
            self.closed.set()

    async def watch(self, http: requests.Session, url: str, stream_id: int) -> str:
        answer = await asyncio.to_thread(
            http.post,
            f"{url}/api/live/{stream_id}/whep",
            data=await offer(self.pc),
            headers={"Content-Type": "application/sdp"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer.text, type="answer"))
        await asyncio.wait_for(self.enough.wait(), timeout=30)
        return str(answer.headers["Location"])


def shrink(server: LiveServer, how: str, video_id: int, token: str) -> None:
    """Take the coach's access away: revoke her share, deactivate her, or delete the lesson."""
    if how == "delete":
        gone = requests.delete(
            f"{server.url}/api/videos/{video_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert gone.status_code == 204, gone.text
        return
    with server.app().app_context():
        coach = accounts.find_user_by_email(COACH)
        assert coach is not None
        if how == "revoke":
            teacher = accounts.find_user_by_email(TEACHER)
            assert teacher is not None
            (share,) = [
                s for s in videos.active_shares(teacher, video_id) if s.grantee_id == coach.id
            ]
            videos.revoke_share(teacher, video_id, share.id)
        else:
            admin = accounts.find_user_by_email(ADMIN)
            assert admin is not None
            accounts.set_active(admin, coach.id, False)


@pytest.mark.parametrize("how", ["revoke", "deactivate", "delete"])
def test_a_viewer_whose_access_ends_stops_receiving(server: LiveServer, how: str) -> None:
    with server.app().app_context():
        teacher = accounts.find_user_by_email(TEACHER)
        assert teacher is not None
        token = api_tokens.create_api_token(teacher, "OBS")[1]
    coach = server.session(COACH, DEMO_PASSWORD)
    other = server.session(OTHER_COACH, DEMO_PASSWORD)

    async def scenario() -> None:
        publisher = RTCPeerConnection()
        publisher.addTrack(MediaPlayer("testsrc=size=320x240:rate=30", format="lavfi").video)
        went = await asyncio.to_thread(
            requests.post,
            f"{server.url}/api/live/whip",
            params={"title": "Revoked while live"},
            data=await offer(publisher),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"},
            timeout=30,
        )
        assert went.status_code == 201, went.text
        await publisher.setRemoteDescription(RTCSessionDescription(sdp=went.text, type="answer"))
        video_id = int(went.headers["Loupe-Video-Id"])
        stream_id = int(went.headers["Loupe-Stream-Id"])
        viewer = Viewer()
        try:
            location = await viewer.watch(coach, server.url, stream_id)
            # Sessions belong to their person: another coach cannot end hers.
            foreign = await asyncio.to_thread(other.delete, f"{server.url}{location}", timeout=10)
            assert foreign.status_code == 404
            assert gateway_health(server)["live_viewers"] == 1

            await asyncio.to_thread(shrink, server, how, video_id, token)
            shrunk_at = time.monotonic()
            await asyncio.wait_for(viewer.closed.wait(), timeout=5)
            assert viewer.closed_at - shrunk_at < 1.0
            # Nothing arrives once the connection is closed.
            counted = viewer.frames
            await asyncio.wait_for(asyncio.gather(*viewer.tasks), timeout=5)
            assert viewer.frames == counted
            assert gateway_health(server)["live_viewers"] == 0
            # Her new offer is refused too.
            again = Viewer()
            refused = await asyncio.to_thread(
                coach.post,
                f"{server.url}/api/live/{stream_id}/whep",
                data=await offer(again.pc),
                headers={"Content-Type": "application/sdp"},
                timeout=30,
            )
            await again.pc.close()
            assert refused.status_code in (401, 404), refused.text
            if how == "delete":
                # The lesson's stream ended with it (its recording went the normal way).
                wait_until(
                    lambda: gateway_health(server)["live_streams"] == 0,
                    timeout=10,
                    what="the stream to end",
                )
        finally:
            await viewer.pc.close()
            await publisher.close()

    asyncio.run(scenario())


def test_a_viewer_ends_their_own_session(server: LiveServer) -> None:
    with server.app().app_context():
        teacher = accounts.find_user_by_email(TEACHER)
        assert teacher is not None
        token = api_tokens.create_api_token(teacher, "OBS")[1]
    coach = server.session(COACH, DEMO_PASSWORD)

    async def scenario() -> None:
        publisher = RTCPeerConnection()
        publisher.addTrack(MediaPlayer("testsrc=size=320x240:rate=30", format="lavfi").video)
        went = await asyncio.to_thread(
            requests.post,
            f"{server.url}/api/live/whip",
            data=await offer(publisher),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"},
            timeout=30,
        )
        assert went.status_code == 201, went.text
        await publisher.setRemoteDescription(RTCSessionDescription(sdp=went.text, type="answer"))
        viewer = Viewer()
        try:
            location = await viewer.watch(coach, server.url, int(went.headers["Loupe-Stream-Id"]))
            bye = await asyncio.to_thread(coach.delete, f"{server.url}{location}", timeout=10)
            assert bye.status_code == 204, bye.text
            await asyncio.wait_for(viewer.closed.wait(), timeout=5)
            assert gateway_health(server)["live_viewers"] == 0
        finally:
            await viewer.pc.close()
            await publisher.close()

    asyncio.run(scenario())
