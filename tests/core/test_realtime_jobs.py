"""Real processes: `loupe serve` with its Celery worker, the Socket.IO client, both brokers.

publish() must reach browsers from a web request and from a worker process, through the
folder queue of the embedded default and through Redis.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio

from app.accounts import service as accounts
from app.demo import DEMO_PASSWORD
from app.lessons import service as videos
from tests.conftest import REDIS_URL, LiveServer, need, start_server, stop_server
from tests.conftest import Browser as BrowserSession

TEACHER = "ana.lopez@riverbend.example"
COACH = "maya.chen@riverbend.example"
ADMIN = "admin@riverbend.example"


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.redis)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    extra: dict[str, str] = {}
    if request.param == "redis":
        need(REDIS_URL is not None, "LOUPE_TEST_REDIS_URL is not set (no Redis to test against)")
        assert REDIS_URL is not None
        extra = {"LOUPE_REDIS_URL": REDIS_URL, "LOUPE_BROKER_URL": REDIS_URL}
    live = start_server(tmp_path / "live", demo=True, **extra)
    yield live
    stop_server(live)


def Browser(server: LiveServer, email: str) -> BrowserSession:  # noqa: N802  (reads as a class)
    return BrowserSession(server, email, DEMO_PASSWORD)


def test_worker_job_reaches_the_browser(server: LiveServer) -> None:
    admin = Browser(server, ADMIN)
    try:
        answer = admin.http.post(f"{server.url}/api/system/ping")
        assert answer.status_code == 202
        pong = admin.expect("system.pong", nonce=answer.json()["nonce"])
        # The answer came from the worker process, not from the web process that took the call.
        assert not pong["worker"].endswith(f":{server.process.pid}")
    finally:
        admin.close()


def test_web_request_publishes_and_rooms_follow_the_policy(server: LiveServer) -> None:
    app = server.app()
    with app.app_context():
        teacher = accounts.find_user_by_email(TEACHER)
        assert teacher is not None
        video_id = videos.create_video(teacher, title="Live test lesson").id

    coach = Browser(server, COACH)
    owner = server.session(TEACHER, DEMO_PASSWORD)
    try:
        refused = coach.sio.call("video.join", {"video_id": video_id}, timeout=10)
        assert refused == {"ok": False, "error": "No such video."}

        share = owner.post(
            f"{server.url}/api/videos/{video_id}/shares",
            json={"email": COACH, "permission": "comment"},
        )
        assert share.status_code == 201
        assert coach.expect("video.shared", video_id=video_id)["title"] == "Live test lesson"
        assert coach.sio.call("video.join", {"video_id": video_id}, timeout=10) == {"ok": True}

        revoke = owner.delete(f"{server.url}/api/videos/{video_id}/shares/{share.json()['id']}")
        assert revoke.status_code == 204
        coach.expect("video.access_revoked", video_id=video_id)
        assert coach.sio.call("video.join", {"video_id": video_id}, timeout=10)["ok"] is False

        for garbage in (None, "x", {"video_id": "1"}, {"video_id": -3}, {"video_id": True}, [1]):
            answer = coach.sio.call("video.join", garbage, timeout=10)
            assert answer["ok"] is False
        assert coach.sio.connected
    finally:
        coach.close()


def test_connections_need_a_session_and_our_origin(server: LiveServer) -> None:
    anonymous = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect(server.url, transports=["websocket"], wait_timeout=10)

    http = server.session(COACH, DEMO_PASSWORD)
    cookie = f"loupe_session={http.cookies['loupe_session']}"
    # Long-polling, because the WebSocket client adds an Origin header of its own.
    foreign = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        foreign.connect(
            server.url,
            headers={"Cookie": cookie, "Origin": "http://evil.example"},
            transports=["polling"],
            wait_timeout=10,
        )

    own = socketio.Client(reconnection=False)
    own.connect(
        server.url,
        headers={"Cookie": cookie, "Origin": server.url},
        transports=["polling"],
        wait_timeout=10,
    )
    assert own.connected
    own.disconnect()

    # Signing out ends the session, so the same cookie no longer opens a socket.
    assert http.post(f"{server.url}/api/auth/logout").status_code == 200
    stale = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        stale.connect(
            server.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10
        )


def test_second_start_reuses_the_data(tmp_path: Path) -> None:
    first = start_server(tmp_path / "keep", demo=True, worker=False)
    app = first.app()
    with app.app_context():
        teacher = accounts.find_user_by_email(TEACHER)
        assert teacher is not None
        videos.create_video(teacher, title="Kept across restarts")
    stop_server(first)
    second = start_server(tmp_path / "keep", demo=True, worker=False)
    try:
        http = second.session(TEACHER, DEMO_PASSWORD)
        titles = [v["title"] for v in http.get(f"{second.url}/api/videos").json()]
        assert titles == ["Kept across restarts"]
        assert requests.get(f"{second.url}/api/videos", timeout=5).status_code == 401
    finally:
        stop_server(second)


def test_an_owner_in_both_rooms_gets_each_event_once(server: LiveServer) -> None:
    app = server.app()
    with app.app_context():
        teacher = accounts.find_user_by_email(TEACHER)
        assert teacher is not None
        watched = videos.create_video(teacher, title="Watched").id
        fence = videos.create_video(teacher, title="Fence").id
    owner = Browser(server, TEACHER)
    try:
        assert owner.sio.call("video.join", {"video_id": watched}, timeout=10) == {"ok": True}
        assert owner.http.delete(f"{server.url}/api/videos/{watched}").status_code == 204
        assert owner.http.delete(f"{server.url}/api/videos/{fence}").status_code == 204
        owner.expect("video.deleted", video_id=watched)
        # Events arrive in order: once the fence's event is here, no copy of the first can follow.
        seen = [owner.expect("video.deleted")["video_id"]]
        assert seen == [fence]
    finally:
        owner.close()
