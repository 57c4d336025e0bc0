"""Recording a debrief: consent from everyone, aiortc peers publish to the real gateway, and the
recording ends as a ready video shared with the participants."""

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
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.accounts import service as accounts
from app.demo import DEMO_PASSWORD
from app.lessons import service as videos
from app.rtc import tokens
from tests.conftest import LiveServer, ffmpeg_available, need, start_server, stop_server, wait_until

TEACHER = "ana.lopez@riverbend.example"
COACH = "maya.chen@riverbend.example"
SECONDS = 10


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    need(ffmpeg_available(), "no ffmpeg (apt-get install ffmpeg)")
    live = start_server(tmp_path / "live", demo=True)
    yield live
    stop_server(live)


def gateway_url(server: LiveServer) -> str:
    return f"http://127.0.0.1:{server.env['LOUPE_RTC_PORT']}"


async def publish(http: requests.Session, url: str, debrief_id: int) -> RTCPeerConnection:
    """Send generated camera and microphone to the recording gateway through the web app."""
    pc = RTCPeerConnection()
    camera = MediaPlayer("testsrc=size=640x480:rate=30", format="lavfi")
    microphone = MediaPlayer("sine=frequency=440:sample_rate=48000", format="lavfi")
    assert camera.video is not None
    assert microphone.audio is not None
    pc.addTrack(camera.video)
    pc.addTrack(microphone.audio)
    await pc.setLocalDescription(await pc.createOffer())
    answer = await asyncio.to_thread(
        http.post,
        f"{url}/api/debriefs/{debrief_id}/recording/offer",
        json={"sdp": pc.localDescription.sdp},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    await pc.setRemoteDescription(
        RTCSessionDescription(**{k: answer.json()[k] for k in ("sdp", "type")})
    )
    return pc


def test_a_consented_recording_becomes_a_shared_video(server: LiveServer) -> None:
    with server.app().app_context():
        teacher = accounts.find_user_by_email(TEACHER)
        assert teacher is not None
        lesson = videos.create_video(teacher, title="Fractions").id
        videos.share_video(teacher, lesson, COACH, "comment")
    coach = server.session(COACH, DEMO_PASSWORD)
    ana = server.session(TEACHER, DEMO_PASSWORD)
    debrief = coach.post(f"{server.url}/api/debriefs", json={"video_id": lesson}).json()
    base = f"{server.url}/api/debriefs/{debrief['id']}"

    # Nothing records without everyone's consent.
    asked = coach.post(f"{base}/recording").json()["recording"]
    assert asked["state"] == "asking"
    early = ana.post(f"{base}/recording/offer", json={"sdp": "v=0"})
    assert early.status_code == 409
    assert ana.post(f"{base}/recording", json={}).status_code == 403  # not the host
    on = ana.post(f"{base}/recording/consent", json={"agree": True}).json()["recording"]
    assert on["state"] == "on"
    bad = coach.post(f"{base}/recording/offer", json={"sdp": "v=0\r\nnonsense"})
    assert bad.status_code == 400

    async def call() -> None:
        peers = [await publish(s, server.url, debrief["id"]) for s in (coach, ana)]
        try:
            # The recording's length is what is measured here, not a synchronisation wait.
            await asyncio.sleep(SECONDS)
        finally:
            stopped = await asyncio.to_thread(coach.delete, f"{base}/recording", timeout=60)
            assert stopped.status_code == 200, stopped.text
            assert stopped.json()["recording"]["state"] == "processing"
            for pc in peers:
                await pc.close()

    asyncio.run(call())

    def done() -> dict[str, Any] | None:
        state = coach.get(base, timeout=10).json()["recording"]
        assert state["state"] != "failed", state
        return state if state["state"] == "done" else None

    recording = wait_until(done, timeout=240, what="the recording to be composed")
    # The raw per-person tracks go once they are in the composed video.
    raw = server.data_dir / "rtc" / f"debrief-{debrief['id']}"
    wait_until(lambda: not raw.exists(), timeout=30, what="the raw tracks to be removed")

    def ready() -> dict[str, Any] | None:
        video = ana.get(f"{server.url}/api/videos/{recording['video_id']}", timeout=10)
        body: dict[str, Any] = video.json()
        assert body["status"] != "failed", body
        return body if body["status"] == "ready" else None

    video = wait_until(ready, timeout=240, what="the recording to be processed")
    assert video["duration_s"] == pytest.approx(SECONDS, abs=1.0)
    assert video["title"].startswith("Debrief: Fractions")
    assert "view" in video["permissions"]  # shared with the teacher


def test_the_gateway_trusts_only_fresh_tokens_for_the_act(server: LiveServer) -> None:
    url = gateway_url(server)
    secret = server.app().config["SECRET_KEY"]
    offer = {"sdp": "v=0\r\n", "type": "offer"}

    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3600

    expired = URLSafeTimedSerializer(secret, salt=tokens.SALT, signer=Old).dumps(
        {"act": "publish", "debrief": 1, "user": 1}
    )
    cases = {
        "forged": tokens.sign("not-the-secret", act="publish", debrief=1, user=1),
        "expired": expired,
        "other act": tokens.sign(secret, act="finish", debrief=1),
    }
    for name, token in cases.items():
        answer = requests.post(f"{url}/v1/publish", json={**offer, "token": token}, timeout=10)
        assert answer.status_code == 403, name
    assert requests.post(f"{url}/v1/publish", json=offer, timeout=10).status_code == 401
    assert requests.post(f"{url}/v1/publish", data=b"[", timeout=10).status_code == 400
    good = tokens.sign(secret, act="publish", debrief=1, user=1)
    nonsense = requests.post(
        f"{url}/v1/publish",
        json={"sdp": "v=0\r\nm=bogus", "type": "offer", "token": good},
        timeout=10,
    )
    assert nonsense.status_code == 400
    assert requests.get(f"{url}/v1/health", timeout=10).json()["sessions"] == 0
