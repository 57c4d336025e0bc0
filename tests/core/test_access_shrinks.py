"""Access that shrinks reaches what is already open: lesson rooms and debrief rooms.

Real `loupe serve`, real python-socketio clients. A person whose share is revoked, whose
account is deactivated or whose lesson is deleted is taken out of the rooms server-side (from
another process: these tests change access through the services in the test process, whose
events reach the server through the message queue), their peers see them leave, and nothing of
the lesson reaches them afterwards. Relays naming a socket outside the sender's room are dropped.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.accounts import service as accounts
from app.accounts.models import User
from app.core.extensions import db
from app.demo import DEMO_PASSWORD
from app.lessons import service as videos
from app.lessons.models import Video
from app.lessons.rooms import publish_to_lesson
from tests.conftest import REDIS_URL, Browser, LiveServer, need, start_server, stop_server

TEACHER = "ana.lopez@riverbend.example"
COACH = "maya.chen@riverbend.example"
OTHER = "david.okafor@riverbend.example"
ADMIN = "admin@riverbend.example"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(tmp_path / "live", demo=True, worker=False)
    yield live
    stop_server(live)


def person(email: str) -> User:
    found = accounts.find_user_by_email(email)
    assert found is not None
    return found


def lesson_with_coach(server: LiveServer) -> tuple[int, int]:
    """Create a lesson of the teacher's shared with the coach; return (video id, share id)."""
    with server.app().app_context():
        teacher = person(TEACHER)
        video_id = videos.create_video(teacher, title="Shrinking lesson").id
        share = videos.share_video(teacher, video_id, COACH, "comment")
        return video_id, share.id


def progress(server: LiveServer, video_id: int, percent: int) -> None:
    """Send a processing progress event to the lesson, as a worker does."""
    with server.app().app_context():
        video = db.session.get(Video, video_id)
        assert video is not None
        publish_to_lesson("video.progress", {"video_id": video_id, "percent": percent}, video)


def drain(who: Browser) -> list[tuple[str, Any]]:
    """Return the events a client has received and not yet read."""
    seen = []
    while True:
        try:
            seen.append(who.events.get_nowait())
        except queue.Empty:
            return seen


def watch(*people: Browser, video_id: int) -> None:
    for who in people:
        assert who.sio.call("video.join", {"video_id": video_id}, timeout=10) == {"ok": True}


@pytest.mark.parametrize("how", ["revoke", "deactivate"])
def test_a_person_whose_access_ends_leaves_the_lesson_room(server: LiveServer, how: str) -> None:
    leaves_the_lesson_room(server, how)


@pytest.mark.redis
def test_the_room_closes_through_redis_too(tmp_path: Path) -> None:
    need(REDIS_URL is not None, "LOUPE_TEST_REDIS_URL is not set (no Redis to test against)")
    assert REDIS_URL is not None
    live = start_server(
        tmp_path / "live",
        demo=True,
        worker=False,
        LOUPE_REDIS_URL=REDIS_URL,
        LOUPE_BROKER_URL=REDIS_URL,
    )
    try:
        leaves_the_lesson_room(live, "revoke")
    finally:
        stop_server(live)


def leaves_the_lesson_room(server: LiveServer, how: str) -> None:
    """Watch a lesson with the teacher, lose access, and show nothing more arrives."""
    video_id, share_id = lesson_with_coach(server)
    ana = Browser(server, TEACHER, DEMO_PASSWORD)
    maya = Browser(server, COACH, DEMO_PASSWORD)
    try:
        watch(maya, ana, video_id=video_id)
        ana_sid = maya.expect("presence.joined", video_id=video_id)["sid"]
        progress(server, video_id, 10)
        assert maya.expect("video.progress", video_id=video_id)["percent"] == 10

        with server.app().app_context():
            if how == "revoke":
                videos.revoke_share(person(TEACHER), video_id, share_id)
            else:
                accounts.set_active(person(ADMIN), person(COACH).id, False)
        # Her faces go from the others' lists without knowing her sockets.
        left = ana.expect("presence.left", video_id=video_id)
        with server.app().app_context():
            assert left["user_id"] == person(COACH).id

        # Server-side she is out of the room: her relays are refused.
        here = maya.sio.call("presence.here", {"video_id": video_id, "to": ana_sid}, timeout=10)
        assert here["ok"] is False
        # Nothing of the lesson reaches her: progress and presence go on for Ana only.
        drain(maya)
        progress(server, video_id, 50)
        assert ana.expect("video.progress", video_id=video_id)["percent"] == 50
        third = Browser(server, TEACHER, DEMO_PASSWORD)
        try:
            watch(third, video_id=video_id)
            ana.expect("presence.joined", video_id=video_id)
        finally:
            third.close()
        ana.expect("presence.left", video_id=video_id)
        # A round trip on her own socket: anything sent to her before it has arrived.
        maya.sio.call("video.leave", {"video_id": video_id}, timeout=10)
        late = [e for e in drain(maya) if e[0].startswith(("video.progress", "presence."))]
        assert late == []
    finally:
        for who in (ana, maya):
            if who.sio.connected:
                who.close()


def test_a_deleted_lesson_closes_its_room(server: LiveServer) -> None:
    video_id, _ = lesson_with_coach(server)
    ana = Browser(server, TEACHER, DEMO_PASSWORD)
    maya = Browser(server, COACH, DEMO_PASSWORD)
    try:
        watch(maya, ana, video_id=video_id)
        ana_sid = maya.expect("presence.joined", video_id=video_id)["sid"]
        assert ana.http.delete(f"{server.url}/api/videos/{video_id}").status_code == 204
        maya.expect("video.deleted", video_id=video_id)
        here = maya.sio.call("presence.here", {"video_id": video_id, "to": ana_sid}, timeout=10)
        assert here["ok"] is False
    finally:
        ana.close()
        maya.close()


def test_presence_here_to_a_socket_outside_the_room_is_dropped(server: LiveServer) -> None:
    video_id, _ = lesson_with_coach(server)
    ana = Browser(server, TEACHER, DEMO_PASSWORD)
    david = Browser(server, OTHER, DEMO_PASSWORD)  # connected, but not watching this lesson
    try:
        watch(ana, video_id=video_id)
        forged = ana.sio.call(
            "presence.here", {"video_id": video_id, "to": david.sio.get_sid()}, timeout=10
        )
        assert forged == {"ok": False, "error": "That socket is not watching this lesson."}
        david.sio.call("video.join", {"video_id": 999_999}, timeout=10)  # a round trip
        assert [e for e in drain(david) if e[0] == "presence.here"] == []
    finally:
        ana.close()
        david.close()


def debrief_with(server: LiveServer, coach: Browser, video_id: int) -> int:
    made = coach.http.post(f"{server.url}/api/debriefs", json={"video_id": video_id})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


@pytest.mark.parametrize("how", ["revoke", "delete"])
def test_a_debrief_member_whose_access_ends_is_removed(server: LiveServer, how: str) -> None:
    video_id, share_id = lesson_with_coach(server)
    ana = Browser(server, TEACHER, DEMO_PASSWORD)
    maya = Browser(server, COACH, DEMO_PASSWORD)
    try:
        debrief_id = debrief_with(server, maya, video_id)
        base = f"{server.url}/api/debriefs/{debrief_id}"
        assert maya.sio.call("debrief.join", {"debrief_id": debrief_id}, timeout=10)["ok"]
        joined = ana.sio.call("debrief.join", {"debrief_id": debrief_id}, timeout=10)
        assert joined["ok"] is True
        maya_sid = maya.sio.get_sid()
        maya.expect("debrief.peer_joined", debrief_id=debrief_id)
        assert ana.http.post(f"{base}/notes", json={"body": "Before"}).status_code == 201
        maya.expect("debrief.note", debrief_id=debrief_id)

        with server.app().app_context():
            if how == "revoke":
                videos.revoke_share(person(TEACHER), video_id, share_id)
        if how == "delete":
            assert ana.http.delete(f"{server.url}/api/videos/{video_id}").status_code == 204
        if how == "delete":
            # Nobody stays in a debrief about a deleted lesson: both are taken out.
            ana.expect("debrief.removed", debrief_id=debrief_id)
            maya.expect("debrief.removed", debrief_id=debrief_id)
            assert ana.http.get(base).status_code == 404
        else:
            # Her peers see her leave, as when someone hangs up.
            assert ana.expect("debrief.peer_left", debrief_id=debrief_id)["sid"] == maya_sid

        # REST refuses her: the debrief, its notes, ICE credentials.
        assert maya.http.get(base).status_code == 404
        assert maya.http.post(f"{base}/notes", json={"body": "x"}).status_code == 404
        assert maya.http.get(f"{base}/ice").status_code == 404
        # The room refuses her messages.
        playback = {"debrief_id": debrief_id, "playing": True, "position": 5.0, "rate": 1}
        assert maya.sio.call("debrief.playback", playback, timeout=10)["ok"] is False
        signal = {
            "debrief_id": debrief_id,
            "to": ana.sio.get_sid(),
            "description": {"type": "offer", "sdp": "v=0"},
        }
        assert maya.sio.call("debrief.signal", signal, timeout=10)["ok"] is False
        if how == "revoke":
            # Nothing more reaches her: notes, playback, signals from the teacher.
            drain(maya)
            assert ana.http.post(f"{base}/notes", json={"body": "After"}).status_code == 201
            playback["position"] = 9.0
            assert ana.sio.call("debrief.playback", playback, timeout=10)["ok"] is True
            signal["to"] = maya_sid
            assert ana.sio.call("debrief.signal", signal, timeout=10)["ok"] is False
            maya.sio.call("debrief.clock", {}, timeout=10)  # a round trip
            late = [e for e in drain(maya) if e[0].startswith("debrief.")]
            assert [e[0] for e in late if e[0] != "debrief.removed"] == []
    finally:
        ana.close()
        maya.close()


def test_a_debrief_signal_to_a_socket_outside_the_room_is_dropped(server: LiveServer) -> None:
    video_id, _ = lesson_with_coach(server)
    ana = Browser(server, TEACHER, DEMO_PASSWORD)
    maya = Browser(server, COACH, DEMO_PASSWORD)
    david = Browser(server, OTHER, DEMO_PASSWORD)
    try:
        debrief_id = debrief_with(server, maya, video_id)
        for who in (maya, ana):
            assert who.sio.call("debrief.join", {"debrief_id": debrief_id}, timeout=10)["ok"]
        forged = {
            "debrief_id": debrief_id,
            "to": david.sio.get_sid(),
            "description": {"type": "offer", "sdp": "v=0"},
        }
        answer = maya.sio.call("debrief.signal", forged, timeout=10)
        assert answer == {"ok": False, "error": "That socket is not in this debrief."}
        here = {"debrief_id": debrief_id, "to": david.sio.get_sid()}
        assert maya.sio.call("debrief.here", here, timeout=10)["ok"] is False
        david.sio.call("debrief.clock", {}, timeout=10)  # a round trip
        assert [e for e in drain(david) if e[0].startswith("debrief.")] == []
        # A member of the room still gets a signal.
        forged["to"] = ana.sio.get_sid()
        assert maya.sio.call("debrief.signal", forged, timeout=10) == {"ok": True}
        ana.expect("debrief.signal", debrief_id=debrief_id)
    finally:
        for who in (ana, maya, david):
            who.close()
