"""WebRTC signaling through the real Socket.IO server, with aiortc peers as the members.

Two members join a debrief, negotiate through `debrief.signal` and receive each other's video
frames; a non-member, a message from outside the room and forged or oversized messages are
refused without harming the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack

from app.accounts import service as accounts
from app.demo import DEMO_PASSWORD
from app.lessons import service as videos
from tests.conftest import LiveServer, start_server, stop_server

TEACHER = "ana.lopez@riverbend.example"
COACH = "maya.chen@riverbend.example"
STRANGER = "david.okafor@riverbend.example"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(tmp_path / "live", demo=True, worker=False)
    yield live
    stop_server(live)


class Member:
    """A debrief member: a signed-in Socket.IO client with one aiortc peer connection."""

    def __init__(self, server: LiveServer, email: str) -> None:
        self.http: requests.Session = server.session(email, DEMO_PASSWORD)
        self.url = server.url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.pc: RTCPeerConnection | None = None
        self.frames: asyncio.Queue[Any] = asyncio.Queue()
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.debrief_id = 0
        self.tasks: set[asyncio.Future[None]] = set()
        self.sio.on("*", self._record)
        self.sio.on("debrief.peer_joined", self._offer_to_newcomer)
        self.sio.on("debrief.signal", self._signal)

    async def _record(self, event: str, data: Any) -> None:
        await self.events.put((event, data))

    async def connect(self) -> None:
        await self.sio.connect(
            self.url,
            headers={"Cookie": f"loupe_session={self.http.cookies['loupe_session']}"},
            transports=["websocket"],
            wait_timeout=10,
        )

    def _peer(self, other: str) -> RTCPeerConnection:
        pc = RTCPeerConnection()
        pc.addTrack(VideoStreamTrack())

        @pc.on("track")
        def on_track(track: Any) -> None:
            async def pull() -> None:
                while True:
                    try:
                        await self.frames.put(await track.recv())
                    except Exception:  # the track ended with the call
                        return

            self.tasks.add(asyncio.ensure_future(pull()))

        self.pc = pc
        return pc

    async def _offer_to_newcomer(self, data: dict[str, Any]) -> None:
        # The member already in the room makes the offer to the one who just came in.
        pc = self._peer(data["sid"])
        await pc.setLocalDescription(await pc.createOffer())
        await self.send(data["sid"], pc.localDescription)

    async def _signal(self, data: dict[str, Any]) -> None:
        description = data.get("description")
        if description is None:
            return  # aiortc gathers every candidate before describing itself
        if description["type"] == "offer":
            pc = self._peer(data["from"])
            await pc.setRemoteDescription(RTCSessionDescription(**description))
            await pc.setLocalDescription(await pc.createAnswer())
            await self.send(data["from"], pc.localDescription)
        elif self.pc is not None:
            await self.pc.setRemoteDescription(RTCSessionDescription(**description))

    async def send(self, to: str, description: RTCSessionDescription) -> None:
        answer = await self.sio.call(
            "debrief.signal",
            {
                "debrief_id": self.debrief_id,
                "to": to,
                "description": {"type": description.type, "sdp": description.sdp},
            },
            timeout=10,
        )
        assert answer == {"ok": True}, answer

    async def join(self, debrief_id: int) -> dict[str, Any]:
        self.debrief_id = debrief_id
        answer: dict[str, Any] = await self.sio.call(
            "debrief.join", {"debrief_id": debrief_id}, timeout=10
        )
        return answer

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        if self.sio.connected:
            await self.sio.disconnect()


def test_members_negotiate_and_receive_each_others_video(server: LiveServer) -> None:
    with server.app().app_context():
        teacher = accounts.find_user_by_email(TEACHER)
        assert teacher is not None
        video_id = videos.create_video(teacher, title="Debrief lesson").id
        videos.share_video(teacher, video_id, COACH, "comment")

    async def scenario() -> None:
        coach, teacher_peer, stranger = (Member(server, e) for e in (COACH, TEACHER, STRANGER))
        made = coach.http.post(f"{server.url}/api/debriefs", json={"video_id": video_id})
        assert made.status_code == 201, made.text
        debrief_id = made.json()["id"]
        try:
            for member in (coach, teacher_peer, stranger):
                await member.connect()
            assert (await teacher_peer.join(debrief_id))["ok"] is True
            joined = await coach.join(debrief_id)
            assert joined["ok"] is True
            assert joined["playback"]["playing"] is False

            refused = await stranger.join(debrief_id)
            assert refused == {"ok": False, "error": "No such debrief."}
            # Outside the room: no signal, playback or presence gets through.
            forged = {
                "debrief_id": debrief_id,
                "to": joined["sid"],
                "description": {"type": "offer", "sdp": "v=0"},
            }
            assert (await stranger.sio.call("debrief.signal", forged, timeout=10))["ok"] is False
            bad_messages: list[Any] = [
                None,
                "hello",
                {"debrief_id": "1"},
                {"debrief_id": debrief_id, "to": "x", "description": {"type": "bogus", "sdp": ""}},
                {
                    "debrief_id": debrief_id,
                    "to": "x",
                    "description": {"type": "offer", "sdp": "v" * 70_000},
                },
                {"debrief_id": debrief_id, "to": "x"},
                {"debrief_id": debrief_id, "to": "x", "candidate": {"candidate": "c", "evil": 1}},
            ]
            for message in bad_messages:
                answer = await coach.sio.call("debrief.signal", message, timeout=10)
                assert answer["ok"] is False, message
            playback = {"debrief_id": debrief_id, "playing": True, "position": 60.0, "rate": 1}
            assert (await stranger.sio.call("debrief.playback", playback, timeout=10))[
                "ok"
            ] is False

            # The media: each side decodes frames from the other.
            for member in (coach, teacher_peer):
                frame = await asyncio.wait_for(member.frames.get(), timeout=30)
                assert frame.width > 0

            # The shared player: the coach presses play at 1:00, the teacher hears of it.
            state = await coach.sio.call("debrief.playback", playback, timeout=10)
            assert state["ok"] is True
            while True:
                event, data = await asyncio.wait_for(teacher_peer.events.get(), timeout=10)
                if event == "debrief.playback":
                    assert (data["playing"], data["position"]) == (True, 60.0)
                    break
            # Leaving tells the others.
            coach_sid = coach.sio.get_sid()
            await coach.close()
            while True:
                event, data = await asyncio.wait_for(teacher_peer.events.get(), timeout=10)
                if event == "debrief.peer_left":
                    assert data["sid"] == coach_sid
                    break
        finally:
            for member in (coach, teacher_peer, stranger):
                await member.close()

    asyncio.run(scenario())
    # The server is still well and the attendance was recorded.
    with server.app().app_context():
        from app.core.extensions import db
        from app.debriefs.models import DebriefAttendance

        stays = db.session.query(DebriefAttendance).all()
        assert len(stays) == 2
        assert all(a.left_at is not None for a in stays)
    assert requests.get(f"{server.url}/login", timeout=5).status_code == 200
