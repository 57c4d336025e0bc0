"""Debriefs: who may hold and enter them, attendance as the coaching log, notes, TURN secrets."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask, current_app

from app.accounts.models import Organization, User
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.debriefs import coaching, room
from app.debriefs import service as debriefs
from app.debriefs.jobs import compose_recording
from app.debriefs.models import RecordingState
from app.debriefs.schemas import DebriefIn, NoteIn
from app.lessons import service as videos
from app.lessons.models import Video
from app.rtc import folders
from tests.conftest import login


@dataclass
class Team:
    teacher: User
    coach: User
    second: User
    viewer: User
    stranger: User
    admin: User
    video: Video


@pytest.fixture
def team(
    any_db_app: Flask,
    make_user: Callable[..., User],
    make_video: Callable[..., Video],
    district: Callable[..., Organization],
) -> Team:
    teacher = make_user("teacher", name="Ana Lopez")
    coach = make_user("coach", name="Maya Chen")
    second = make_user("coach", name="David Okafor")
    viewer = make_user("teacher", name="Peer Teacher")
    stranger = make_user("coach", name="Not Shared")
    admin = make_user("admin", name="Rosa Admin")
    video = make_video(teacher)
    videos.share_video(teacher, video.id, coach.email, "comment")
    videos.share_video(teacher, video.id, second.email, "comment")
    videos.share_video(teacher, video.id, viewer.email, "view")
    return Team(teacher, coach, second, viewer, stranger, admin, video)


def test_who_may_hold_and_enter_a_debrief(
    team: Team, make_user: Callable[..., User], district: Callable[..., Organization]
) -> None:
    debrief = debriefs.create_debrief(
        team.coach, DebriefIn(video_id=team.video.id, participants=[team.second.email])
    )
    roles = {p.user_id: p.role.value for p in debrief.participants}
    assert roles == {team.coach.id: "host", team.teacher.id: "teacher", team.second.id: "guest"}
    with pytest.raises(NotFound):
        debriefs.get_debrief(team.stranger, debrief.id)
    with pytest.raises(NotFound):
        room.join(team.viewer, debrief.id, "sid-viewer")
    with pytest.raises(NotFound):
        debriefs.get_debrief(team.admin, debrief.id)  # the log, not the conversation
    # Viewers of the lesson do not hold debriefs about it.
    with pytest.raises(Forbidden):
        debriefs.create_debrief(team.viewer, DebriefIn(video_id=team.video.id))
    outsider = make_user("coach", org=district("far"))
    cases = [
        ([team.stranger.email], "cannot watch this lesson"),
        ([outsider.email], "No active coach or teacher"),
        ([team.admin.email], "No active coach or teacher"),
        (["nobody@nowhere.example"], "No active coach or teacher"),
    ]
    for emails, message in cases:
        with pytest.raises(Invalid) as err:
            debriefs.create_debrief(
                team.coach, DebriefIn(video_id=team.video.id, participants=emails)
            )
        assert message in err.value.message
        assert err.value.field == "participants"
    with pytest.raises(Invalid) as past:
        debriefs.create_debrief(
            team.coach,
            DebriefIn(video_id=team.video.id, scheduled_for=utcnow() - timedelta(hours=1)),
        )
    assert past.value.field == "scheduled_for"


def test_attendance_makes_the_coaching_log(team: Team) -> None:
    soon = utcnow() + timedelta(days=1)
    debrief = debriefs.create_debrief(
        team.coach, DebriefIn(video_id=team.video.id, scheduled_for=soon)
    )
    assert debriefs.status(debrief) == "scheduled"
    assert [d.id for d in debriefs.list_debriefs(team.teacher)] == [debrief.id]
    room.join(team.coach, debrief.id, "sid-coach")
    room.join(team.teacher, debrief.id, "sid-teacher")
    assert debriefs.status(debrief) == "live"
    assert room.leave("sid-teacher") == [debrief.id]
    assert debriefs.status(debrief) == "live"  # the coach is still there
    room.join(team.teacher, debrief.id, "sid-teacher-again")  # a reload
    room.leave("sid-coach")
    room.leave("sid-teacher-again")
    db.session.refresh(debrief)
    assert debriefs.status(debrief) == "ended"
    assert debriefs.duration_s(debrief) is not None
    # Not closed: a participant coming back reopens it.
    room.join(team.teacher, debrief.id, "sid-back")
    assert debriefs.status(debrief) == "live"
    with pytest.raises(Forbidden):
        room.end(team.teacher, debrief.id)
    room.end(team.coach, debrief.id)
    with pytest.raises(Conflict):
        room.join(team.teacher, debrief.id, "sid-late")
    assert debriefs.present(debrief) == []

    for person, expected in ((team.coach, 1), (team.admin, 1), (team.stranger, 0)):
        log = list(csv.reader(io.StringIO(coaching.coaching_log_csv(person))))
        assert log[0] == list(coaching.LOG_COLUMNS)
        assert len(log) - 1 == expected
    rows = list(csv.reader(io.StringIO(coaching.coaching_log_csv(team.admin))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["teacher"] == "Ana Lopez"
    assert row["coach"] == "Maya Chen"
    assert float(row["duration_minutes"]) >= 0


def test_notes_and_action_steps(team: Team) -> None:
    debrief = debriefs.create_debrief(team.coach, DebriefIn(video_id=team.video.id))
    note = room.add_note(
        team.teacher, debrief.id, NoteIn(kind="action_step", body="Use a timer", at_ms=61_000)
    )
    assert room.set_note_done(team.coach, debrief.id, note.id, True).done
    with pytest.raises(Forbidden):
        room.delete_note(team.coach, debrief.id, note.id)
    with pytest.raises(NotFound):
        room.add_note(team.viewer, debrief.id, NoteIn(body="sneaky"))
    with pytest.raises(Invalid):
        room.add_note(team.coach, debrief.id, NoteIn(body="   "))
    room.delete_note(team.teacher, debrief.id, note.id)
    assert debriefs.get_debrief(team.coach, debrief.id).notes == []


def test_ice_gives_expiring_turn_credentials(team: Team, any_db_app: Flask) -> None:
    debrief = debriefs.create_debrief(team.coach, DebriefIn(video_id=team.video.id))
    any_db_app.config.update(
        STUN_URLS=("stun:stun.example.org:3478",),
        TURN_URLS=("turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443"),
        TURN_SECRET="s3cret",
        TURN_TTL_SECONDS=600,
    )
    client = any_db_app.test_client()
    login(client, team.teacher)
    answer = client.get(f"/api/debriefs/{debrief.id}/ice")
    assert answer.status_code == 200
    body = answer.get_json()
    stun, turn = body["ice_servers"]
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    expires, user_id = turn["username"].split(":")
    assert int(user_id) == team.teacher.id
    assert 0 < int(expires) - time.time() <= 600
    expected = hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
    assert base64.b64decode(turn["credential"]) == expected
    stranger = any_db_app.test_client()
    login(stranger, team.stranger)
    assert stranger.get(f"/api/debriefs/{debrief.id}/ice").status_code == 404


def test_debrief_api(team: Team, any_db_app: Flask) -> None:
    coach = any_db_app.test_client()
    headers = {"X-CSRF-Token": login(coach, team.coach)}
    made = coach.post(
        "/api/debriefs",
        json={"video_id": team.video.id, "participants": [team.second.email]},
        headers=headers,
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["status"] == "scheduled"
    assert body["is_host"] is True
    assert [p["role"] for p in body["participants"]] == ["host", "teacher", "guest"]
    too_many = coach.post(
        "/api/debriefs",
        json={"video_id": team.video.id, "participants": ["a@x.example"] * 4},
        headers=headers,
    )
    assert too_many.status_code == 400
    assert too_many.get_json()["field"] == "participants"
    teacher = any_db_app.test_client()
    teacher_headers = {"X-CSRF-Token": login(teacher, team.teacher)}
    assert teacher.get(f"/api/debriefs/{body['id']}").get_json()["is_host"] is False
    assert (
        teacher.post(f"/api/debriefs/{body['id']}/end", headers=teacher_headers).status_code == 403
    )
    note = teacher.post(
        f"/api/debriefs/{body['id']}/notes",
        json={"kind": "action_step", "body": "Try **turn and talk**", "at_ms": 5000},
        headers=teacher_headers,
    )
    assert note.status_code == 201
    assert note.get_json()["body_html"] == "<p>Try <strong>turn and talk</strong></p>"
    ended = coach.post(f"/api/debriefs/{body['id']}/end", headers=headers)
    assert ended.get_json()["status"] == "ended"
    log = coach.get("/api/debriefs.csv")
    assert log.status_code == 200
    assert log.mimetype == "text/csv"
    assert "Maya Chen" in log.get_data(as_text=True)
    assert any_db_app.test_client().get("/api/debriefs.csv").status_code == 401


def test_a_recording_job_that_breaks_ends_failed_with_a_reason(team: Team) -> None:
    debrief = debriefs.create_debrief(team.coach, DebriefIn(video_id=team.video.id))
    debrief.recording = RecordingState.PROCESSING  # the gateway handed its recording over
    db.session.commit()
    # A manifest whose track has no file: no pipeline error, a plain KeyError in the job.
    broken = {"duration_s": 5.0, "tracks": [{"user_id": team.coach.id, "kind": "video"}]}
    where = folders.folder(current_app.config["DATA_DIR"], "debrief", debrief.id)
    compose_recording.run(debrief.id, folders.write_result(where, broken))
    db.session.refresh(debrief)
    assert debrief.recording == RecordingState.FAILED
    assert debrief.recording_error is not None
    assert "error on the server (KeyError)" in debrief.recording_error
    assert debriefs.recording_state(debrief)["error"] == debrief.recording_error
