"""Live annotations through a real `loupe serve` and real Socket.IO clients, on both queues.

Events travel to each permitted person, so a private note never leaves for the teacher and a
revoked share stops receiving at once; presence tells who else is watching.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.accounts import service as accounts
from app.demo import DEMO_PASSWORD
from app.lessons import service as videos
from tests.conftest import REDIS_URL, Browser, LiveServer, need, start_server, stop_server

TEACHER = "ana.lopez@riverbend.example"
COACH = "maya.chen@riverbend.example"
VIEWER = "david.okafor@riverbend.example"


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.redis)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    extra: dict[str, str] = {}
    if request.param == "redis":
        need(REDIS_URL is not None, "LOUPE_TEST_REDIS_URL is not set (no Redis to test against)")
        assert REDIS_URL is not None
        extra = {"LOUPE_REDIS_URL": REDIS_URL, "LOUPE_BROKER_URL": REDIS_URL}
    live = start_server(tmp_path / "live", demo=True, worker=False, **extra)
    yield live
    stop_server(live)


def annotation_events(person: Browser, until: str, **match: Any) -> list[tuple[str, Any]]:
    """Return the annotation events a person received before the event `until` arrived."""
    seen: list[tuple[str, Any]] = []
    while True:
        try:
            name, data = person.events.get(timeout=20)
        except queue.Empty:
            pytest.fail(f"no {until} {match} within 20s")
        if name == until and all(data.get(k) == v for k, v in match.items()):
            return seen
        if name.startswith("annotation."):
            seen.append((name, data))


def test_live_annotations_follow_visibility_and_access(server: LiveServer) -> None:
    with server.app().app_context():
        teacher = accounts.find_user_by_email(TEACHER)
        assert teacher is not None
        video = videos.create_video(teacher, title="Live annotations lesson")
        video_id = video.id
        videos.share_video(teacher, video_id, COACH, "comment")
        view_share = videos.share_video(teacher, video_id, VIEWER, "view").id
        other_video = videos.create_video(teacher, title="Another lesson").id

    ana = Browser(server, TEACHER, DEMO_PASSWORD)
    maya = Browser(server, COACH, DEMO_PASSWORD)
    david = Browser(server, VIEWER, DEMO_PASSWORD)
    try:
        assert ana.sio.call("video.join", {"video_id": video_id}, timeout=10) == {"ok": True}
        assert maya.sio.call("video.join", {"video_id": video_id}, timeout=10) == {"ok": True}
        joined = ana.expect("presence.joined", video_id=video_id)
        assert joined["user"]["name"] == "Maya Chen"
        # Ana answers; Maya learns Ana was already there.
        for bad in (
            {"video_id": video_id},
            {"video_id": video_id, "to": "x" * 65},
            {"video_id": other_video, "to": joined["sid"]},  # a room Ana has not joined
            "nonsense",
        ):
            refused = ana.sio.call("presence.here", bad, timeout=10)
            assert refused["ok"] is False, bad
        ana.sio.emit("presence.here", {"video_id": video_id, "to": joined["sid"]})
        assert maya.expect("presence.here", video_id=video_id)["user"]["name"] == "Ana López"

        url = f"{server.url}/api/videos/{video_id}/annotations"
        private = maya.http.post(
            url, json={"start_ms": 1000, "body": "Pacing: talk later", "visibility": "private"}
        ).json()
        shared = maya.http.post(url, json={"start_ms": 12_000, "body": "Great hook"}).json()
        got = ana.expect("annotation.changed", video_id=video_id)
        # The first annotation Ana hears of is the shared one: the private note never came.
        assert got["annotation"]["id"] == shared["id"]
        assert maya.expect("annotation.changed")["annotation"]["id"] == private["id"]
        assert david.expect("annotation.changed")["annotation"]["body"] == "Great hook"

        reply = ana.http.post(
            f"{server.url}/api/annotations/{shared['id']}/replies", json={"body": "Thank you!"}
        )
        assert reply.status_code == 201
        thread = maya.expect("annotation.changed")["annotation"]
        # Maya's own shared note came first; the reply follows.
        if not thread["replies"]:
            thread = maya.expect("annotation.changed")["annotation"]
        assert [r["body"] for r in thread["replies"]] == ["Thank you!"]

        made_private = maya.http.patch(
            f"{server.url}/api/annotations/{shared['id']}", json={"visibility": "private"}
        )
        assert made_private.status_code == 200
        removed = ana.expect("annotation.removed", video_id=video_id)
        assert removed["id"] == shared["id"]

        # Revoked: David hears nothing more of this lesson's feedback.
        with server.app().app_context():
            teacher = accounts.find_user_by_email(TEACHER)
            assert teacher is not None
            videos.revoke_share(teacher, video_id, view_share)
        david.expect("video.access_revoked", video_id=video_id)
        maya.http.post(url, json={"start_ms": 30_000, "body": "After the revocation"})
        ana.expect("annotation.changed", video_id=video_id)
        with server.app().app_context():
            teacher = accounts.find_user_by_email(TEACHER)
            assert teacher is not None
            videos.share_video(teacher, other_video, VIEWER, "view")
        assert annotation_events(david, "video.shared", video_id=other_video) == []

        maya_sid = maya.sio.get_sid()
        maya.close()
        # Maya's own leaving, by her socket: David's revocation also sends a presence.left
        # (by user id, from this process through the queue), which may arrive this late.
        ana.expect("presence.left", video_id=video_id, sid=maya_sid)
    finally:
        for person in (ana, maya, david):
            if person.sio.connected:
                person.close()
