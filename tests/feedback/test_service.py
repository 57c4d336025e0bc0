"""Annotations: who may write and see what, tags that survive new framework versions, catch-up."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app.accounts.models import Organization, User
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.feedback import replies
from app.feedback import service as feedback
from app.feedback.models import Annotation
from app.feedback.schemas import (
    AnnotationIn,
    AnnotationOut,
    AnnotationPage,
    AnnotationPatch,
    ReplyIn,
)
from app.frameworks import service as frameworks
from app.lessons import service as videos
from tests.conftest import SPEC, login
from tests.feedback.conftest import Lesson


def note(**kw: Any) -> AnnotationIn:
    return AnnotationIn.model_validate({"start_ms": 12_000, "body": "Nice wait time.", **kw})


def test_who_may_annotate(lesson: Lesson) -> None:
    by_coach = feedback.create_annotation(lesson.coach, lesson.video.id, note())
    # The teacher annotates their own lesson as reflection.
    by_teacher = feedback.create_annotation(lesson.teacher, lesson.video.id, note(kind="question"))
    assert (by_coach.seq, by_teacher.seq) == (1, 2)
    with pytest.raises(Forbidden):
        feedback.create_annotation(lesson.viewer, lesson.video.id, note())
    with pytest.raises(Forbidden):
        replies.add_reply(lesson.viewer, by_coach.id, ReplyIn(body="me too"))
    with pytest.raises(NotFound):
        feedback.create_annotation(lesson.outsider, lesson.video.id, note())
    with pytest.raises(NotFound):
        feedback.get_annotation(lesson.outsider, by_coach.id)
    # Viewers read shared feedback.
    page = feedback.list_annotations(lesson.viewer, lesson.video.id)
    assert [a.id for a in page.annotations] == [by_coach.id, by_teacher.id]
    # Only the author edits or deletes.
    with pytest.raises(Forbidden):
        feedback.update_annotation(lesson.teacher, by_coach.id, AnnotationPatch(body="mine now"))
    with pytest.raises(Forbidden):
        feedback.delete_annotation(lesson.teacher, by_coach.id)
    # A revoked share loses the feedback with the video.
    share = next(s for s in lesson.video.shares if s.grantee_id == lesson.coach.id)
    videos.revoke_share(lesson.teacher, lesson.video.id, share.id)
    with pytest.raises(NotFound):
        feedback.get_annotation(lesson.coach, by_coach.id)
    with pytest.raises(NotFound):
        feedback.update_annotation(lesson.coach, by_coach.id, AnnotationPatch(body="late edit"))


def test_private_notes_stay_with_their_author(lesson: Lesson) -> None:
    private = feedback.create_annotation(
        lesson.coach, lesson.video.id, note(visibility="private", body="Talk about pacing")
    )
    shared = feedback.create_annotation(lesson.coach, lesson.video.id, note(start_ms=5000))
    assert [a.id for a in feedback.list_annotations(lesson.coach, lesson.video.id).annotations] == [
        private.id,
        shared.id,
    ]
    for other in (lesson.teacher, lesson.viewer):
        page = feedback.list_annotations(other, lesson.video.id)
        assert [a.id for a in page.annotations] == [shared.id]
        assert page.removed == []
        with pytest.raises(NotFound):
            feedback.get_annotation(other, private.id)
        assert private.id not in [a.id for a in feedback.all_annotations(other, lesson.video)]
    with pytest.raises(NotFound):
        replies.add_reply(lesson.teacher, private.id, ReplyIn(body="what pacing?"))
    # Made private later: those who saw it learn it is gone, without its text.
    cursor = feedback.list_annotations(lesson.teacher, lesson.video.id).cursor
    feedback.update_annotation(lesson.coach, shared.id, AnnotationPatch(visibility="private"))
    later = feedback.list_annotations(lesson.teacher, lesson.video.id, since=cursor)
    assert (later.annotations, later.removed) == ([], [shared.id])


def test_tags_keep_the_framework_version_they_were_made_with(lesson: Lesson) -> None:
    dimension = lesson.framework.dimensions[0]
    level = dimension.levels[1]
    tagged = feedback.create_annotation(
        lesson.coach, lesson.video.id, note(dimension_id=dimension.id, level_id=level.id)
    )
    changed = copy.deepcopy(SPEC)
    changed["dimensions"][0]["name"] = "Complexity of texts"
    changed["dimensions"][0]["levels"][1]["label"] = "Meets"
    newer = frameworks.update_framework(
        lesson.coach, lesson.framework.id, frameworks.parse_spec(changed)
    )
    out = AnnotationOut.of(feedback.get_annotation(lesson.teacher, tagged.id))
    assert out.tag is not None
    assert (out.tag.framework_version, out.tag.dimension_name, out.tag.level_label) == (
        1,
        "Text complexity",
        "Yes",
    )
    # Editing the text keeps the old tag; a new tag must use the current version.
    feedback.update_annotation(lesson.coach, tagged.id, AnnotationPatch(body="Edited."))
    assert feedback.get_annotation(lesson.coach, tagged.id).level_label == "Yes"
    with pytest.raises(Invalid) as old:
        feedback.create_annotation(lesson.coach, lesson.video.id, note(dimension_id=dimension.id))
    assert old.value.field == "dimension_id"
    current = newer.dimensions[0]
    retagged = feedback.update_annotation(
        lesson.coach,
        tagged.id,
        AnnotationPatch(dimension_id=current.id, level_id=current.levels[1].id),
    )
    assert (retagged.framework_version, retagged.dimension_name, retagged.level_label) == (
        2,
        "Complexity of texts",
        "Meets",
    )


def test_bad_tags_and_times_are_refused(
    lesson: Lesson, make_user: Callable[..., User], district: Callable[..., Organization]
) -> None:
    first, second = lesson.framework.dimensions
    cases: list[tuple[dict[str, Any], str]] = [
        ({"level_id": first.levels[0].id}, "dimension_id"),
        ({"dimension_id": second.id, "level_id": first.levels[0].id}, "level_id"),
        ({"dimension_id": 999_999}, "dimension_id"),
        ({"start_ms": 125_000}, "start_ms"),
        ({"start_ms": 1000, "end_ms": 200_000}, "end_ms"),
        ({"body": " \n\t "}, "body"),
        ({"body": "x" * 5001}, "body"),
    ]
    for fields, field in cases:
        with pytest.raises(Invalid) as err:
            feedback.create_annotation(lesson.coach, lesson.video.id, note(**fields))
        assert err.value.field == field, fields
    foreign = frameworks.list_frameworks(make_user("admin", org=district("far")))[0]
    with pytest.raises(Invalid):
        feedback.create_annotation(
            lesson.coach, lesson.video.id, note(dimension_id=foreign.dimensions[0].id)
        )
    with pytest.raises(Invalid) as same:
        feedback.create_annotation(lesson.coach, lesson.video.id, note(start_ms=5, end_ms=5))
    assert same.value.field == "end_ms"
    assert feedback.list_annotations(lesson.coach, lesson.video.id).annotations == []


def test_catch_up_returns_only_what_changed(lesson: Lesson) -> None:
    made = [
        feedback.create_annotation(lesson.coach, lesson.video.id, note(start_ms=i * 1000))
        for i in range(5)
    ]
    first = feedback.list_annotations(lesson.teacher, lesson.video.id, limit=2)
    assert ([a.id for a in first.annotations], first.more) == ([made[0].id, made[1].id], True)
    rest = feedback.list_annotations(lesson.teacher, lesson.video.id, since=first.cursor)
    assert [a.id for a in rest.annotations] == [a.id for a in made[2:]]
    assert not rest.more
    cursor = rest.cursor
    replies.add_reply(lesson.teacher, made[0].id, ReplyIn(body="Thanks, I'll try it."))
    feedback.delete_annotation(lesson.coach, made[3].id)
    after = feedback.list_annotations(lesson.teacher, lesson.video.id, since=cursor)
    assert [a.id for a in after.annotations] == [made[0].id]
    assert [r.body for r in after.annotations[0].replies] == ["Thanks, I'll try it."]
    assert after.removed == [made[3].id]
    assert feedback.list_annotations(lesson.teacher, lesson.video.id, since=after.cursor) == (
        AnnotationPage(annotations=[], removed=[], cursor=after.cursor, more=False)
    )
    # A deleted annotation keeps no text or replies.
    gone = db.session.get(Annotation, made[3].id)
    assert gone is not None
    assert gone.body == ""
    assert gone.replies == []


def test_concurrent_writers_get_distinct_ordered_change_numbers(
    lesson: Lesson, any_db_app: Flask
) -> None:
    coach_id, video_id = lesson.coach.id, lesson.video.id
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with any_db_app.app_context():
                coach = db.session.get(User, coach_id)
                assert coach is not None
                for i in range(5):
                    feedback.create_annotation(coach, video_id, note(start_ms=n * 100 + i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    page = feedback.list_annotations(lesson.coach, video_id, limit=1000)
    assert sorted(a.seq for a in page.annotations) == list(range(1, 41))
    assert page.cursor == 40


def test_reply_threads_and_their_authors(lesson: Lesson) -> None:
    thread = feedback.create_annotation(lesson.coach, lesson.video.id, note())
    replies.add_reply(lesson.teacher, thread.id, ReplyIn(body="I *felt* rushed."))
    thread = replies.add_reply(lesson.coach, thread.id, ReplyIn(body="Try a **timer**."))
    mine, theirs = thread.replies
    with pytest.raises(Forbidden):
        replies.update_reply(lesson.coach, thread.id, mine.id, ReplyIn(body="changed"))
    replies.update_reply(lesson.teacher, thread.id, mine.id, ReplyIn(body="I felt rushed."))
    replies.delete_reply(lesson.coach, thread.id, theirs.id)
    out = AnnotationOut.of(feedback.get_annotation(lesson.viewer, thread.id))
    assert [(r.author.name, r.body) for r in out.replies] == [("Ana López", "I felt rushed.")]
    assert out.replies[0].edited_at is not None


# --- through the API ---------------------------------------------------------------------------


def test_api_round_trip_and_errors(lesson: Lesson, any_db_app: Flask) -> None:
    coach = any_db_app.test_client()
    token = login(coach, lesson.coach)
    headers = {"X-CSRF-Token": token}
    url = f"/api/videos/{lesson.video.id}/annotations"
    dimension = lesson.framework.dimensions[0]
    made = coach.post(
        url,
        json={
            "start_ms": 12_000,
            "end_ms": 18_500,
            "body": "<img src=x onerror=alert(1)> **Great** hook",
            "dimension_id": dimension.id,
            "level_id": dimension.levels[0].id,
            "kind": "strength",
            "visibility": "shared",
        },
        headers=headers,
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["body_html"] == (
        "<p>&lt;img src=x onerror=alert(1)&gt; <strong>Great</strong> hook</p>"
    )
    assert body["tag"]["dimension_name"] == "Text complexity"
    bad = [
        ({"start_ms": -1, "body": "x"}, "start_ms"),
        ({"start_ms": 10, "end_ms": 5, "body": "x"}, "end_ms"),
        ({"start_ms": 10, "body": "x", "kind": "praise"}, "kind"),
        ({"start_ms": 10, "body": "x", "visibility": "public"}, "visibility"),
        ({"start_ms": 10, "body": "x", "colour": "red"}, "colour"),
        ({"start_ms": 10, "body": 5}, "body"),
    ]
    for payload, field in bad:
        answer = coach.post(url, json=payload, headers=headers)
        assert answer.status_code == 400, payload
        assert answer.get_json()["field"] == field, (payload, answer.get_json())
    assert coach.get(f"{url}?since=x").status_code == 400
    assert coach.get(f"{url}?limit=5000").get_json()["field"] == "limit"
    assert coach.post(url, json={"start_ms": 1, "body": "no token"}).status_code in (400, 403)

    annotation_id = body["id"]
    edited = coach.patch(
        f"/api/annotations/{annotation_id}", json={"dimension_id": None}, headers=headers
    )
    assert edited.status_code == 200
    assert edited.get_json()["tag"] is None
    replied = coach.post(
        f"/api/annotations/{annotation_id}/replies", json={"body": "More?"}, headers=headers
    )
    assert replied.status_code == 201
    assert len(replied.get_json()["replies"]) == 1

    viewer = any_db_app.test_client()
    viewer_headers = {"X-CSRF-Token": login(viewer, lesson.viewer)}
    assert viewer.get(url).get_json()["annotations"][0]["id"] == annotation_id
    assert (
        viewer.post(url, json={"start_ms": 1, "body": "x"}, headers=viewer_headers).status_code
        == 403
    )
    assert (
        viewer.delete(f"/api/annotations/{annotation_id}", headers=viewer_headers).status_code
        == 403
    )
    outsider = any_db_app.test_client()
    login(outsider, lesson.outsider)
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"/api/annotations/{annotation_id}").status_code == 404
    framework = viewer.get(f"/api/videos/{lesson.video.id}/framework").get_json()
    assert framework["builtin"] == "loupe-five"

    assert coach.delete(f"/api/annotations/{annotation_id}", headers=headers).status_code == 204
    assert coach.get(f"/api/annotations/{annotation_id}").status_code == 404
    assert any_db_app.test_client().get(url).status_code == 401


def test_the_framework_comes_from_the_video_then_the_caseload_then_the_district(
    lesson: Lesson, any_db_app: Flask
) -> None:
    from app.accounts import caseloads

    published = frameworks.list_frameworks(lesson.coach)
    five = next(f for f in published if f.builtin == "loupe-five")
    glow = next(f for f in published if f.builtin == "glow-grow")
    assert feedback.framework_for(lesson.video, lesson.coach) == five
    caseloads.assign_coach(None, lesson.coach, lesson.teacher, framework_id=lesson.framework.id)
    assert feedback.framework_for(lesson.video, lesson.coach) == lesson.framework
    assert feedback.framework_for(lesson.video, lesson.viewer) == five  # not their caseload

    owner = any_db_app.test_client()
    headers = {"X-CSRF-Token": login(owner, lesson.teacher)}
    url = f"/api/videos/{lesson.video.id}"
    answer = owner.patch(url, json={"framework_id": glow.id}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["framework_id"] == glow.id
    coach = any_db_app.test_client()
    coach_headers = {"X-CSRF-Token": login(coach, lesson.coach)}
    assert coach.get(f"{url}/framework").get_json()["id"] == glow.id
    # A new version of the chosen framework is used from then on.
    newer = frameworks.update_framework(
        lesson.coach, glow.id, frameworks.parse_spec(frameworks.export_spec(glow))
    )
    assert coach.get(f"{url}/framework").get_json()["id"] == newer.id
    assert coach.patch(url, json={"title": "Mine"}, headers=coach_headers).status_code == 403
    draft = frameworks.create_framework(lesson.coach, frameworks.parse_spec(SPEC))
    refused = owner.patch(url, json={"framework_id": draft.id}, headers=headers)
    assert refused.status_code == 400
    assert refused.get_json()["field"] == "framework_id"
    blank = owner.patch(url, json={"title": "  "}, headers=headers)
    assert blank.get_json()["field"] == "title"
    assert owner.patch(url, json={"framework_id": None}, headers=headers).status_code == 200
    assert coach.get(f"{url}/framework").get_json()["id"] == lesson.framework.id


def test_api_never_shows_a_private_note_to_anyone_else(lesson: Lesson, any_db_app: Flask) -> None:
    coach = any_db_app.test_client()
    headers = {"X-CSRF-Token": login(coach, lesson.coach)}
    url = f"/api/videos/{lesson.video.id}/annotations"
    private = coach.post(
        url, json={"start_ms": 1, "body": "Only mine", "visibility": "private"}, headers=headers
    ).get_json()
    assert coach.get(url).get_json()["annotations"][0]["visibility"] == "private"
    for person in (lesson.teacher, lesson.viewer):
        other = any_db_app.test_client()
        other_headers = {"X-CSRF-Token": login(other, person)}
        listed = other.get(url).get_json()
        assert listed["annotations"] == []
        assert listed["removed"] == []
        assert "Only mine" not in other.get(f"{url}?since=0&limit=1000").get_data(as_text=True)
        assert other.get(f"/api/annotations/{private['id']}").status_code == 404
        reply = other.post(
            f"/api/annotations/{private['id']}/replies", json={"body": "?"}, headers=other_headers
        )
        assert reply.status_code == 404


@pytest.mark.parametrize("number", [10**30, 2**63, 2**31, 0])
def test_numbers_past_a_column_are_400_naming_the_field(
    lesson: Lesson, any_db_app: Flask, number: int
) -> None:
    # Past 2^63 (SQLite) or 2^31 (PostgreSQL's integer) these reached the database: a 500.
    client = any_db_app.test_client()
    headers = {"X-CSRF-Token": login(client, lesson.coach)}
    url = f"/api/videos/{lesson.video.id}/annotations"

    def refused(response: Any, field: str) -> None:
        assert response.status_code == 400, (field, response.get_json())
        assert response.get_json()["field"] == field

    for field in ("dimension_id", "level_id"):
        body = {"start_ms": 1000, "body": "Wait time", field: number}
        refused(client.post(url, json=body, headers=headers), field)
    made = client.post(url, json={"start_ms": 1000, "body": "Wait time"}, headers=headers)
    patch = client.patch(
        f"/api/annotations/{made.get_json()['id']}", json={"dimension_id": number}, headers=headers
    )
    refused(patch, "dimension_id")
    refused(client.post("/api/debriefs", json={"video_id": number}, headers=headers), "video_id")
    teacher = any_db_app.test_client()
    teacher_headers = {"X-CSRF-Token": login(teacher, lesson.teacher)}
    video = f"/api/videos/{lesson.video.id}"
    refused(
        teacher.patch(video, json={"framework_id": number}, headers=teacher_headers), "framework_id"
    )
    document = {
        "annotations": [
            {
                "start_ms": 0,
                "body": "Imported",
                "kind": "note",
                "visibility": "shared",
                "author": {"name": "Maya Chen"},
                "created_at": "2026-01-01T00:00:00Z",
                "tag": {"dimension_name": "Pacing", "colour": "#123456", "level_score": number},
            }
        ]
    }
    if number:  # a level score of 0 is a real score
        imported = client.post(f"{url}/import", json=document, headers=headers)
        refused(imported, "annotations.0.tag.level_score")


@pytest.mark.parametrize("value", [str(10**30), str(2**63), "\u00b2", "\u0663", "1_0", "+5"])
@pytest.mark.parametrize("name", ["since", "limit"])
def test_catch_up_cursors_are_ascii_whole_numbers_in_range(
    lesson: Lesson, any_db_app: Flask, name: str, value: str
) -> None:
    client = any_db_app.test_client()
    login(client, lesson.coach)
    response = client.get(f"/api/videos/{lesson.video.id}/annotations", query_string={name: value})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == name
