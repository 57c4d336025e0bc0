"""Live lessons through a real `loupe serve` (web, worker, gateway) with aiortc as the WHIP
publisher and the WHEP viewer: the recording becomes the lesson video, feedback given live
sits at its moment, and every refusal is clean."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from flask import Flask

from app.accounts import service as accounts
from app.accounts import tokens as api_tokens
from app.accounts.models import User
from app.core.extensions import db
from app.demo import DEMO_PASSWORD
from app.lessons import service as videos
from app.lessons.models import Video
from app.live.models import LiveStream
from tests.conftest import LiveServer, ffmpeg_available, need, start_server, stop_server, wait_until

TEACHER = "ana.lopez@riverbend.example"  # on Maya Chen's caseload
COACH = "maya.chen@riverbend.example"
OTHER_COACH = "david.okafor@riverbend.example"
SECONDS = 10


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    need(ffmpeg_available(), "no ffmpeg (apt-get install ffmpeg)")
    live = start_server(tmp_path / "live", demo=True, LOUPE_LIVE_GRACE_SECONDS="30")
    yield live
    stop_server(live)


def token_for(server: LiveServer, email: str) -> str:
    with server.app().app_context():
        user = accounts.find_user_by_email(email)
        assert user is not None
        return api_tokens.create_api_token(user, "OBS")[1]


async def offer(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


async def go_live(url: str, token: str, title: str) -> tuple[RTCPeerConnection, requests.Response]:
    pc = RTCPeerConnection()
    camera = MediaPlayer("testsrc=size=640x480:rate=30", format="lavfi")
    microphone = MediaPlayer("sine=frequency=440:sample_rate=48000", format="lavfi")
    pc.addTrack(camera.video)
    pc.addTrack(microphone.audio)
    sdp = await offer(pc)
    answer = await asyncio.to_thread(
        requests.post,
        f"{url}/api/live/whip",
        params={"title": title, "subject": "Math"},
        data=sdp,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"},
        timeout=30,
    )
    if answer.status_code == 201:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.text, type="answer"))
    return pc, answer


def test_a_live_lesson_is_watched_annotated_and_recorded(server: LiveServer) -> None:
    token = token_for(server, TEACHER)
    coach = server.session(COACH, DEMO_PASSWORD)
    other = server.session(OTHER_COACH, DEMO_PASSWORD)

    async def lesson() -> int:
        pc, answer = await go_live(server.url, token, "Live fractions")
        assert answer.status_code == 201, answer.text
        assert answer.headers["Content-Type"] == "application/sdp"
        location = answer.headers["Location"]
        video_id = int(answer.headers["Loupe-Video-Id"])
        stream_id = int(answer.headers["Loupe-Stream-Id"])

        # A second stream for the same lesson is refused while the first is on air.
        second, refused = await go_live(server.url, token, "Again")
        assert refused.status_code == 409
        await second.close()

        # The caseload coach watches over WHEP and sees frames; another coach may not.
        viewer = RTCPeerConnection()
        viewer.addTransceiver("video", direction="recvonly")
        viewer.addTransceiver("audio", direction="recvonly")
        frames: asyncio.Queue[Any] = asyncio.Queue()

        @viewer.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "video":

                async def pull() -> None:
                    await frames.put(await track.recv())

                tasks.add(asyncio.ensure_future(pull()))

        tasks: set[asyncio.Future[None]] = set()
        sdp = await offer(viewer)
        watch_url = f"{server.url}/api/live/{stream_id}/whep"
        sdp_headers = {"Content-Type": "application/sdp"}
        denied = await asyncio.to_thread(
            other.post, watch_url, data=sdp, headers=sdp_headers, timeout=30
        )
        assert denied.status_code == 404
        watched = await asyncio.to_thread(
            coach.post, watch_url, data=sdp, headers=sdp_headers, timeout=30
        )
        assert watched.status_code == 201, watched.text
        await viewer.setRemoteDescription(RTCSessionDescription(sdp=watched.text, type="answer"))
        frame = await asyncio.wait_for(frames.get(), timeout=30)
        assert frame.width == 640

        # Feedback given live, at the lesson time the coach saw.
        note = await asyncio.to_thread(
            coach.post,
            f"{server.url}/api/videos/{video_id}/annotations",
            json={"start_ms": 4000, "body": "Great hook, live."},
            timeout=10,
        )
        assert note.status_code == 201, note.text
        # The length of the lesson is what is recorded, not a synchronisation wait.
        await asyncio.sleep(SECONDS - 1)
        bye = await asyncio.to_thread(
            coach.delete, f"{server.url}{watched.headers['Location']}", timeout=10
        )
        assert bye.status_code == 204
        await viewer.close()
        ended = await asyncio.to_thread(
            requests.delete,
            f"{server.url}{location}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert ended.status_code == 200, ended.text
        assert ended.json()["status"] == "ended"
        await pc.close()
        return video_id

    video_id = asyncio.run(lesson())

    def ready() -> dict[str, Any] | None:
        body: dict[str, Any] = coach.get(f"{server.url}/api/videos/{video_id}", timeout=10).json()
        assert body["status"] != "failed", body
        return body if body["status"] == "ready" else None

    video = wait_until(ready, timeout=300, what="the live lesson to be processed")
    assert video["title"] == "Live fractions"
    assert video["duration_s"] == pytest.approx(SECONDS, abs=1.0)
    notes = coach.get(f"{server.url}/api/videos/{video_id}/annotations", timeout=10).json()
    assert [a["start_ms"] for a in notes["annotations"]] == [4000]
    assert notes["annotations"][0]["start_ms"] < video["duration_s"] * 1000


def test_a_lesson_deleted_while_live_leaves_no_recording(server: LiveServer) -> None:
    token = token_for(server, TEACHER)
    bearer = {"Authorization": f"Bearer {token}"}

    async def stream_then_delete() -> Path:
        pc, answer = await go_live(server.url, token, "Deleted mid-lesson")
        assert answer.status_code == 201, answer.text
        video_id = int(answer.headers["Loupe-Video-Id"])
        folder = server.data_dir / "rtc" / f"live-{answer.headers['Loupe-Stream-Id']}"
        # The gateway writes the classroom to disk while the lesson is live.
        # (Off the event loop, so the publisher's media keeps flowing meanwhile.)
        await asyncio.to_thread(
            wait_until, lambda: list(folder.glob("*.mkv")), 30, "the recording to start"
        )
        await asyncio.sleep(2)  # a few seconds of lesson, not a synchronisation wait
        deleted = await asyncio.to_thread(
            requests.delete, f"{server.url}/api/videos/{video_id}", headers=bearer, timeout=30
        )
        assert deleted.status_code == 204, deleted.text
        # The teacher stops streaming (if deleting has not ended the stream already).
        ended = await asyncio.to_thread(
            requests.delete,
            f"{server.url}{answer.headers['Location']}",
            headers=bearer,
            timeout=60,
        )
        assert ended.status_code in (200, 404), ended.text
        await pc.close()
        return folder

    folder = asyncio.run(stream_then_delete())
    wait_until(lambda: not folder.exists(), timeout=60, what="the raw recording to be removed")


def test_the_sweep_removes_recordings_nobody_owns(
    any_db_app: Flask, make_user: Callable[..., User], make_video: Callable[..., Video]
) -> None:
    from app.live.jobs import sweep_recordings
    from app.rtc import folders

    teacher = make_user("teacher")
    on_air = LiveStream(
        organization_id=teacher.organization_id,
        owner_id=teacher.id,
        video_id=make_video(teacher, title="Live now").id,
    )
    gone = make_video(teacher, title="Deleted while live")
    orphan = LiveStream(organization_id=teacher.organization_id, owner_id=teacher.id)
    orphan.video_id = gone.id
    db.session.add_all([on_air, orphan])
    db.session.commit()
    videos.delete_video(teacher, gone.id)
    data_dir: Path = any_db_app.config["DATA_DIR"]

    def leave(kind: folders.Kind, owner_id: int, age_s: float = 0) -> Path:
        path = folders.folder(data_dir, kind, owner_id)
        path.mkdir(parents=True)
        track = path / "00-abc-video.mkv"
        track.write_bytes(b"classroom")
        then = time.time() - age_s
        for item in (track, path):
            os.utime(item, (then, then))
        return path

    kept = leave("live", on_air.id)
    leave("live", on_air.id + orphan.id + 100)  # no such stream
    leave("live", orphan.id, age_s=3600)  # lesson deleted, gateway long gone
    leave("debrief", 4242)
    stray = data_dir / "rtc" / "notes"  # not a recording: left alone
    stray.mkdir()

    assert sweep_recordings() == 3
    assert [p.name for p in sorted((data_dir / "rtc").iterdir())] == [kept.name, stray.name]
    # While the gateway may still write for the deleted lesson, its folder stays.
    writing = leave("live", orphan.id)
    assert sweep_recordings() == 0
    assert writing.exists()


def test_live_refusals(server: LiveServer) -> None:
    token = token_for(server, TEACHER)
    url = f"{server.url}/api/live/whip"
    sdp_type = {"Content-Type": "application/sdp"}
    nobody = requests.post(url, data="v=0\r\n", headers=sdp_type, timeout=10)
    assert nobody.status_code == 401
    forged = requests.post(
        url, data="v=0\r\n", headers={**sdp_type, "Authorization": "Bearer loupe_nope"}, timeout=10
    )
    assert forged.status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    wrong_type = requests.post(url, data="v=0\r\n", headers=auth, timeout=10)
    assert wrong_type.status_code == 400
    garbage = requests.post(url, data="hello", headers={**auth, **sdp_type}, timeout=10)
    assert garbage.status_code == 400
    no_media = requests.post(url, data="v=0\r\ns=-\r\n", headers={**auth, **sdp_type}, timeout=10)
    assert no_media.status_code == 400
    admin = server.session("admin@riverbend.example", DEMO_PASSWORD)
    assert admin.post(url, data="v=0\r\n", headers=sdp_type, timeout=10).status_code == 403
    # Nothing half-made is left behind.
    assert requests.get(f"{server.url}/api/live", headers=auth, timeout=10).json() == []
    mine = requests.get(f"{server.url}/api/videos", headers=auth, timeout=10).json()
    assert [v for v in mine if v["title"].startswith("Live")] == []


def test_a_dropped_stream_resumes_the_same_lesson(server: LiveServer) -> None:
    token = token_for(server, TEACHER)

    async def drop_and_resume() -> None:
        pc, first = await go_live(server.url, token, "Shaky Wi-Fi")
        assert first.status_code == 201, first.text
        watcher = server.session(COACH, DEMO_PASSWORD)
        stream_id = int(first.headers["Loupe-Stream-Id"])
        await asyncio.sleep(2)  # two seconds of lesson before the Wi-Fi drops
        await pc.close()  # no DELETE: the connection is simply gone

        def interrupted() -> bool:
            state = watcher.get(f"{server.url}/api/live/{stream_id}", timeout=10).json()
            return bool(state["status"] == "interrupted")

        wait_until(interrupted, timeout=60, what="the gateway to notice the drop")
        again, second = await go_live(server.url, token, "ignored on resume")
        assert second.status_code == 201, second.text
        assert second.headers["Loupe-Video-Id"] == first.headers["Loupe-Video-Id"]
        await asyncio.sleep(2)
        ended = await asyncio.to_thread(
            requests.delete,
            f"{server.url}{second.headers['Location']}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert ended.status_code == 200, ended.text
        await again.close()

    asyncio.run(drop_and_resume())
