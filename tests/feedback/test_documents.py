"""Exports of a video's feedback (CSV, JSON, WebVTT, debrief) and the import of the JSON document.

Each export holds what its reader may see and nothing else; the files parse; the JSON document
survives export → import into another lesson → export unchanged; an import is all or nothing.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import webvtt
from flask import Flask
from sqlalchemy import select

from app.accounts import service as accounts
from app.accounts.models import User
from app.core.audit_models import AuditEvent
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.core.storage import storage
from app.demo import DEMO_PASSWORD
from app.feedback import documents, exports, replies, sheet
from app.feedback import service as feedback
from app.feedback.models import Annotation
from app.feedback.schemas import AnnotationIn, AnnotationOut, AnnotationsDocument, ReplyIn
from app.frameworks import service as frameworks
from app.lessons import service as videos
from app.lessons.models import Video
from media_pipeline.extras import storyboard_vtt
from tests.conftest import SPEC, Browser, login, start_server, stop_server
from tests.feedback.conftest import Lesson


def write(user: User, video: Video, **fields: Any) -> Annotation:
    data = {"start_ms": 12_000, "body": "Nice wait time.", **fields}
    return feedback.create_annotation(user, video.id, AnnotationIn.model_validate(data))


@dataclass
class Feedback:
    tagged: Annotation
    private: Annotation
    reflection: Annotation


def populate(lesson: Lesson) -> Feedback:
    """Give the lesson a tagged range with a thread, a private note and a teacher's question."""
    text, discussion = lesson.framework.dimensions
    tagged = write(
        lesson.coach,
        lesson.video,
        start_ms=65_250,
        end_ms=80_000,
        body="**Strong** hook: «¿Por qué?» — 分数\nSecond line\n\n- a list item",
        kind="strength",
        dimension_id=text.id,
        level_id=text.levels[1].id,
    )
    private = write(
        lesson.coach,
        lesson.video,
        start_ms=5_000,
        body="Talk about pacing --> later\n\n\nafter blank lines",
        visibility="private",
    )
    reflection = write(
        lesson.teacher,
        lesson.video,
        start_ms=90_000,
        body="I rushed this part. <b>&amp;</b>",
        kind="question",
        dimension_id=discussion.id,
    )
    replies.add_reply(lesson.teacher, tagged.id, ReplyIn(body="Thanks! 👍\nI'll keep it."))
    thread = replies.add_reply(lesson.coach, tagged.id, ReplyIn(body="Try a *timer*."))
    replies.update_reply(
        lesson.coach, tagged.id, thread.replies[1].id, ReplyIn(body="Try a *timer* next time.")
    )
    return Feedback(tagged, private, reflection)


def downloads(user: User) -> list[str]:
    return [
        e.detail["path"]
        for e in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "video.downloaded", AuditEvent.actor_id == user.id)
            .order_by(AuditEvent.id)
        )
    ]


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_lists_what_the_reader_sees_one_row_each(lesson: Lesson) -> None:
    made = populate(lesson)
    rows = csv_rows(exports.export_csv(lesson.teacher, lesson.video.id).text)
    assert [r["id"] for r in rows] == [str(made.tagged.id), str(made.reflection.id)]
    first = rows[0]
    assert list(first) == list(exports.CSV_COLUMNS)
    assert {k: first[k] for k in ("start", "end", "start_ms", "end_ms", "kind", "visibility")} == {
        "start": "0:01:05.250",
        "end": "0:01:20.000",
        "start_ms": "65250",
        "end_ms": "80000",
        "kind": "strength",
        "visibility": "shared",
    }
    assert (first["author"], first["framework"], first["framework_version"]) == (
        "Maya Chen",
        "Literacy look-fors",
        "1",
    )
    assert (first["dimension"], first["level_score"], first["level"]) == (
        "Text complexity",
        "2",
        "Yes",
    )
    assert first["body"] == made.tagged.body  # accents, CJK and line breaks intact
    assert first["replies"] == (
        "Ana López: Thanks! 👍\nI'll keep it.\nMaya Chen: Try a *timer* next time."
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["created_at"])
    # A moment has no end; an untagged level stays empty.
    assert (rows[1]["end"], rows[1]["end_ms"], rows[1]["level_score"]) == ("", "", "")
    # The private note is its author's alone.
    mine = csv_rows(exports.export_csv(lesson.coach, lesson.video.id).text)
    assert [r["id"] for r in mine] == [
        str(made.private.id),
        str(made.tagged.id),
        str(made.reflection.id),
    ]
    assert mine[0]["visibility"] == "private"
    assert downloads(lesson.teacher) == ["annotations.csv"]


def test_csv_cells_never_run_as_formulas(lesson: Lesson, make_user: Callable[..., User]) -> None:
    sly = make_user("coach", name="=HYPERLINK(1)")
    videos.share_video(lesson.teacher, lesson.video.id, sly.email, "comment")
    bodies = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "- a list item", "\tx", "fine = ok"]
    for n, body in enumerate(bodies):
        write(sly, lesson.video, start_ms=n * 1000, body=body)
    made = write(sly, lesson.video, start_ms=9000, body="plain")
    replies.add_reply(lesson.teacher, made.id, ReplyIn(body="=cmd reply"))
    rows = csv_rows(exports.export_csv(lesson.teacher, lesson.video.id).text)
    # The tab is stripped as leading whitespace when the body is cleaned, so it never arrives.
    assert [r["body"] for r in rows] == [
        "'=1+2",
        "'+SUM(A1)",
        "'-2+3",
        "'@cmd",
        "'- a list item",
        "x",
        "fine = ok",
        "plain",
    ]
    assert {r["author"] for r in rows} == {"'=HYPERLINK(1)"}
    # The replies cell starts with its first writer's name, so that name is what is guarded.
    assert rows[-1]["replies"] == "Ana López: =cmd reply"
    assert exports._cell("\rx") == "'\rx"
    assert exports._cell(5) == 5


# --- WebVTT ------------------------------------------------------------------------------------


def test_vtt_track_has_one_whole_cue_per_annotation(lesson: Lesson) -> None:
    made = populate(lesson)
    text = exports.export_vtt(lesson.coach, lesson.video.id).text
    track = webvtt.from_string(text)
    captions = list(track.captions)
    assert [c.identifier for c in captions] == [
        str(made.private.id),
        str(made.tagged.id),
        str(made.reflection.id),
    ]
    # A moment lasts a second; a range keeps its end.
    assert [(c.start, c.end) for c in captions] == [
        ("00:00:05.000", "00:00:06.000"),
        ("00:01:05.250", "00:01:20.000"),
        ("00:01:30.000", "00:01:31.000"),
    ]
    payloads = [json.loads(c.text) for c in captions]
    assert payloads[0] == {
        "id": made.private.id,
        "kind": "note",
        "dimension": None,
        "level_score": None,
        "level": None,
        "author": "Maya Chen",
        "imported_author_name": None,
        "body": "Talk about pacing --> later\n\nafter blank lines",
    }
    assert (payloads[1]["dimension"], payloads[1]["level_score"], payloads[1]["level"]) == (
        "Text complexity",
        2,
        "Yes",
    )
    assert payloads[2]["body"] == "I rushed this part. <b>&amp;</b>"
    # The structure a strict reader needs: blocks split by one blank line, each cue exactly
    # identifier, timing, one payload line; "-->" only ever in timing lines.
    blocks = text.rstrip("\n").split("\n\n")
    assert blocks[0] == "WEBVTT"
    assert blocks[1].startswith("NOTE ")
    for block in blocks[2:]:
        ident, timing, payload = block.split("\n")
        assert ident.isdigit()
        assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}", timing)
        assert "-->" not in payload
        assert "<" not in payload
        assert payload.strip() == payload
    # Cues are in start order, as WebVTT requires.
    assert [c.start_in_seconds for c in captions] == sorted(c.start_in_seconds for c in captions)
    teacher_track = webvtt.from_string(exports.export_vtt(lesson.teacher, lesson.video.id).text)
    assert str(made.private.id) not in [c.identifier for c in teacher_track.captions]


# --- JSON and import ---------------------------------------------------------------------------


def comparable(doc: AnnotationsDocument) -> dict[str, Any]:
    """Return the document without what an import is expected to change: who, video, time.

    An import makes the importer the author and keeps the writer's name in the imported mark.
    """
    data = doc.model_dump(mode="json")
    del data["video"], data["exported_at"]
    for item in [*data["annotations"], *(r for a in data["annotations"] for r in a["replies"])]:
        item["imported_author_name"] = item["imported_author_name"] or item["author"]["name"]
        del item["author"]
    return data


def test_json_document_round_trips_losslessly(
    lesson: Lesson, make_video: Callable[..., Video]
) -> None:
    made = populate(lesson)
    doc, filename = documents.export_document(lesson.coach, lesson.video.id)
    assert filename == f"lesson-{lesson.video.id}-fractions-equivalence-feedback.json"
    data = doc.model_dump(mode="json")
    assert (data["format"], data["version"]) == ("loupe.annotations", 1)
    assert data["video"] == {
        "id": lesson.video.id,
        "title": "Fractions: équivalence",
        "duration_s": 120.0,
    }
    tagged = data["annotations"][1]
    assert tagged["tag"] == {
        "framework_name": "Literacy look-fors",
        "framework_version": 1,
        "dimension_name": "Text complexity",
        "colour": "#0891b2",
        "level_score": 2,
        "level_label": "Yes",
    }
    assert [r["author"]["name"] for r in tagged["replies"]] == ["Ana López", "Maya Chen"]
    assert tagged["replies"][1]["edited_at"] is not None
    assert data["annotations"][0]["visibility"] == "private"

    # Into another lesson of the same teacher, through the JSON text a person would carry.
    target = make_video(lesson.teacher, title="Fractions, second try")
    target.duration_s = 100.0
    db.session.commit()
    videos.share_video(lesson.teacher, target.id, lesson.coach.email, "comment")
    carried = AnnotationsDocument.model_validate_json(doc.model_dump_json())
    imported = documents.import_annotations(lesson.coach, target.id, carried)
    assert len(imported) == 3
    again, _ = documents.export_document(lesson.coach, target.id)
    assert comparable(again) == comparable(doc)
    assert again.video is not None
    assert again.video.id == target.id

    # The importer authors everything, marked as imported with the writer's name.
    by_start = {a.start_ms: a for a in imported}
    assert {a.author_id for a in imported} == {lesson.coach.id}
    assert {r.author_id for a in imported for r in a.replies} == {lesson.coach.id}
    assert by_start[90_000].imported_author_name == "Ana López"
    assert by_start[65_250].imported_author_name == "Maya Chen"
    assert [r.imported_author_name for r in by_start[65_250].replies] == ["Ana López", "Maya Chen"]
    assert {a.author.name for a in again.annotations} == {"Maya Chen"}
    assert by_start[65_250].created_at == made.tagged.created_at
    # Same district, same framework version and dimension: the tag links, level included.
    assert by_start[65_250].dimension_id == made.tagged.dimension_id
    assert by_start[65_250].level_id == made.tagged.level_id
    assert by_start[65_250].framework_id == lesson.framework.id
    # The teacher sees the imported shared feedback, never the coach's imported private note.
    seen = feedback.all_annotations(lesson.teacher, target)
    assert [a.start_ms for a in seen] == [65_250, 90_000]


def test_import_links_tags_only_to_an_identical_dimension(
    lesson: Lesson, make_video: Callable[..., Video]
) -> None:
    populate(lesson)
    doc, _ = documents.export_document(lesson.coach, lesson.video.id)
    tagged = doc.annotations[1]
    assert tagged.tag is not None
    renamed = copy.deepcopy(tagged)
    assert renamed.tag is not None
    renamed.tag.framework_name = "Literacy look-fors (old)"
    other_version = copy.deepcopy(tagged)
    assert other_version.tag is not None
    other_version.tag.framework_version = 2
    other_level = copy.deepcopy(tagged)
    assert other_level.tag is not None
    other_level.tag.level_label = "Yes!"
    probe = AnnotationsDocument(annotations=[tagged, renamed, other_version, other_level])

    made = documents.import_annotations(lesson.coach, lesson.video.id, probe)
    dimension = lesson.framework.dimensions[0]
    assert [(a.dimension_id, a.level_id) for a in made] == [
        (dimension.id, dimension.levels[1].id),
        (None, None),
        (None, None),
        (dimension.id, None),
    ]
    # Linked or not, the snapshot is what the feedback said.
    assert [(a.framework_name, a.framework_version, a.level_label) for a in made] == [
        ("Literacy look-fors", 1, "Yes"),
        ("Literacy look-fors (old)", 1, "Yes"),
        ("Literacy look-fors", 2, "Yes"),
        ("Literacy look-fors", 1, "Yes!"),
    ]
    out = AnnotationOut.of(made[1])
    assert out.tag is not None
    assert out.tag.dimension_name == "Text complexity"

    # Another district links to its own identical framework, never to ours.
    far = lesson.outsider
    theirs = frameworks.create_framework(far, frameworks.parse_spec(SPEC), publish=True)
    far_video = make_video(far, title="Elsewhere")
    landed = documents.import_annotations(
        far, far_video.id, AnnotationsDocument(annotations=[tagged])
    )
    assert landed[0].dimension_id == theirs.dimensions[0].id
    assert (landed[0].author_id, landed[0].imported_author_name) == (far.id, "Maya Chen")


def test_import_is_all_or_nothing_and_names_the_bad_field(lesson: Lesson) -> None:
    populate(lesson)
    doc, _ = documents.export_document(lesson.coach, lesson.video.id)
    seq_before = lesson.video.annotation_seq
    count_before = len(feedback.all_annotations(lesson.coach, lesson.video))

    def refused(document: AnnotationsDocument, user: User | None = None) -> Invalid:
        with pytest.raises(Invalid) as err:
            documents.import_annotations(user or lesson.coach, lesson.video.id, document)
        return err.value

    late = copy.deepcopy(doc)
    late.annotations[2].start_ms = 125_000  # the lesson is 120 s long
    assert refused(late).field == "annotations.2.start_ms"
    long_range = copy.deepcopy(doc)
    long_range.annotations[1].end_ms = 200_000
    assert refused(long_range).field == "annotations.1.end_ms"
    empty_reply = copy.deepcopy(doc)
    empty_reply.annotations[1].replies[0].body = "  \n "
    error = refused(empty_reply)
    assert error.field == "annotations.1.replies.0.body"
    assert error.message.startswith("annotations.1.replies.0.body: ")
    backwards = copy.deepcopy(doc)
    backwards.annotations[1].end_ms = 1000
    assert refused(backwards).field == "annotations.1.end_ms"
    # Nothing half-imported, and no change number spent.
    db.session.expire_all()
    assert len(feedback.all_annotations(lesson.coach, lesson.video)) == count_before
    unchanged = db.session.get(Video, lesson.video.id)
    assert unchanged is not None
    assert unchanged.annotation_seq == seq_before
    # Comment access is needed; someone who cannot see the lesson learns nothing of it.
    with pytest.raises(Forbidden):
        documents.import_annotations(lesson.viewer, lesson.video.id, doc)
    with pytest.raises(NotFound):
        documents.import_annotations(lesson.outsider, lesson.video.id, doc)
    assert (
        documents.import_annotations(
            lesson.coach, lesson.video.id, AnnotationsDocument(annotations=[])
        )
        == []
    )


def test_import_takes_one_change_number_per_annotation(lesson: Lesson) -> None:
    populate(lesson)
    doc, _ = documents.export_document(lesson.coach, lesson.video.id)
    cursor = feedback.list_annotations(lesson.teacher, lesson.video.id).cursor
    made = documents.import_annotations(lesson.coach, lesson.video.id, doc)
    assert sorted(a.seq for a in made) == [cursor + 1, cursor + 2, cursor + 3]
    # Catch-up pages of one never skip an imported annotation.
    seen: list[int] = []
    since = cursor
    while True:
        page = feedback.list_annotations(lesson.coach, lesson.video.id, since=since, limit=1)
        seen += [a.id for a in page.annotations]
        since = page.cursor
        if not page.more:
            break
    assert sorted(seen) == sorted(a.id for a in made)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "annotations.imported")
    )
    assert [e.detail for e in events] == [{"count": 3}]


# --- storyboard and debrief --------------------------------------------------------------------


def publish_storyboard(video: Video, *, duration_s: float = 120.0) -> None:
    """Write a storyboard as the pipeline publishes it (interval 5 s, 160x90 tiles)."""
    out = storage().output_dir(video.id)
    (out / "storyboard").mkdir(parents=True, exist_ok=True)
    count = int(duration_s // 5)
    (out / "storyboard.vtt").write_text(storyboard_vtt(count, 5.0, duration_s, 160, 90))
    (out / "storyboard" / "sprite-0001.jpg").write_bytes(b"\xff\xd8\xff\xd9")


def test_storyboard_finds_the_tile_of_a_moment(lesson: Lesson) -> None:
    assert sheet.storyboard_for(lesson.video) is None
    publish_storyboard(lesson.video)
    board = sheet.storyboard_for(lesson.video)
    assert board is not None
    base = f"/media/{lesson.video.id}/storyboard/sprite-0001.jpg"
    assert board.at(0) == sheet.Thumbnail(base, 0, 0, 160, 90)
    assert board.at(4_999) == sheet.Thumbnail(base, 0, 0, 160, 90)
    assert board.at(65_250) == sheet.Thumbnail(base, 480, 90, 160, 90)  # tile 13
    assert board.at(10**7) == sheet.Thumbnail(base, 480, 180, 160, 90)  # the last, tile 23
    # A sprite that is not there means no thumbnails rather than broken ones.
    (storage().output_dir(lesson.video.id) / "storyboard" / "sprite-0001.jpg").unlink()
    assert sheet.storyboard_for(lesson.video) is None
    # Foreign lines and paths that climb out are ignored.
    odd = sheet.Storyboard.parse(
        "WEBVTT\n\n00:00.000 --> 00:05.000\n../secret.jpg#xywh=0,0,1,1\n\n"
        "00:05.000 --> 00:10.000\nsprite.jpg#xywh=1,2,3,4\n",
        "/media/1/",
    )
    assert odd.tiles == [sheet.Thumbnail("/media/1/sprite.jpg", 1, 2, 3, 4)]


def test_debrief_groups_by_dimension_and_keeps_private_notes_private(lesson: Lesson) -> None:
    made = populate(lesson)
    publish_storyboard(lesson.video)
    mine = sheet.debrief_sheet(lesson.coach, lesson.video.id)
    assert [g.name for g in mine.groups] == ["Text complexity", "Discussion", "Other feedback"]
    assert [[i.id for i in g.items] for g in mine.groups] == [
        [made.tagged.id],
        [made.reflection.id],
        [made.private.id],
    ]
    first = mine.groups[0].items[0]
    assert (first.when, first.kind_label, first.level_score, first.level_label) == (
        "0:01:05\u20130:01:20",
        "Strength",
        2,
        "Yes",
    )
    assert str(first.body_html).startswith("<p><strong>Strong</strong> hook")
    assert [r.author for r in first.replies] == ["Ana López", "Maya Chen"]
    assert first.thumbnail is not None
    assert (first.thumbnail.x, first.thumbnail.y) == (480, 90)
    assert mine.groups[2].items[0].private
    assert (mine.teacher, mine.lesson_date, mine.recorded) == ("Ana López", date(2025, 3, 4), True)
    assert mine.coaches == ["Maya Chen"]  # the teacher's own question is reflection, not coaching
    assert [(s.name, s.count, s.average_score) for s in mine.summary] == [
        ("Text complexity", 1, 2.0),
        ("Discussion", 1, None),
    ]
    assert mine.kinds == [("Strength", 1), ("Question", 1), ("Note", 1)]
    theirs = sheet.debrief_sheet(lesson.teacher, lesson.video.id)
    assert [g.name for g in theirs.groups] == ["Text complexity", "Discussion"]
    assert theirs.total == 2
    assert downloads(lesson.coach) == ["debrief"]


# --- through HTTP ------------------------------------------------------------------------------


def test_exports_through_the_api(lesson: Lesson, any_db_app: Flask) -> None:
    made = populate(lesson)
    base = f"/api/videos/{lesson.video.id}/annotations"
    viewer = any_db_app.test_client()
    login(viewer, lesson.viewer)
    answer = viewer.get(f"{base}.csv")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"] == (
        f'attachment; filename="lesson-{lesson.video.id}-fractions-equivalence-feedback.csv"'
    )
    assert answer.data.startswith(b"\xef\xbb\xbf")
    ids = [r["id"] for r in csv_rows(answer.data.decode("utf-8"))]
    assert ids == [str(made.tagged.id), str(made.reflection.id)]
    document = viewer.get(f"{base}.json")
    assert document.status_code == 200
    assert document.headers["Content-Disposition"].startswith("attachment;")
    assert document.data.startswith(b'{\n  "format": "loupe.annotations",\n  "version": 1,')
    assert [a["start_ms"] for a in document.get_json()["annotations"]] == [65_250, 90_000]
    track = viewer.get(f"{base}.vtt")
    assert track.headers["Content-Type"] == "text/vtt; charset=utf-8"
    assert len(webvtt.from_string(track.data.decode("utf-8")).captions) == 2
    assert downloads(lesson.viewer) == ["annotations.csv", "annotations.json", "annotations.vtt"]

    coach = any_db_app.test_client()
    login(coach, lesson.coach)
    assert len(coach.get(f"{base}.json").get_json()["annotations"]) == 3
    outsider = any_db_app.test_client()
    login(outsider, lesson.outsider)
    for suffix in ("csv", "json", "vtt"):
        assert outsider.get(f"{base}.{suffix}").status_code == 404
        assert any_db_app.test_client().get(f"{base}.{suffix}").status_code == 401

    paths = any_db_app.test_client().get("/api/openapi.json").get_json()["paths"]
    csv_doc = paths["/api/videos/{video_id}/annotations.csv"]["get"]["responses"]["200"]
    assert list(csv_doc["content"]) == ["text/csv"]
    vtt_doc = paths["/api/videos/{video_id}/annotations.vtt"]["get"]["responses"]["200"]
    assert list(vtt_doc["content"]) == ["text/vtt"]
    assert "post" in paths["/api/videos/{video_id}/annotations/import"]


def test_import_through_the_api(
    lesson: Lesson, any_db_app: Flask, make_video: Callable[..., Video]
) -> None:
    populate(lesson)
    target = make_video(lesson.teacher, title="Second lesson")
    videos.share_video(lesson.teacher, target.id, lesson.coach.email, "comment")
    videos.share_video(lesson.teacher, target.id, lesson.viewer.email, "view")
    coach = any_db_app.test_client()
    headers = {"X-CSRF-Token": login(coach, lesson.coach)}
    document = coach.get(f"/api/videos/{lesson.video.id}/annotations.json").get_json()
    url = f"/api/videos/{target.id}/annotations/import"

    bad: list[tuple[Callable[[dict[str, Any]], None], str]] = [
        (lambda d: d.update(version=2), "version"),
        (lambda d: d.update(format="something.else"), "format"),
        (lambda d: d["annotations"][1].update(kind="praise"), "annotations.1.kind"),
        (lambda d: d["annotations"][1]["tag"].update(colour="red"), "annotations.1.tag.colour"),
        (
            lambda d: d["annotations"][0].update(created_at="2025-01-01T10:00:00"),
            "annotations.0.created_at",
        ),
        (lambda d: d["annotations"][2].update(start_ms=-5), "annotations.2.start_ms"),
        (lambda d: d["annotations"][2].update(surprise=True), "annotations.2.surprise"),
        (
            lambda d: d["annotations"][1]["replies"][0].update(body=""),
            "annotations.1.replies.0.body",
        ),
        (lambda d: d.pop("annotations"), "annotations"),
    ]
    for spoil, field in bad:
        broken = copy.deepcopy(document)
        spoil(broken)
        answer = coach.post(url, json=broken, headers=headers)
        assert answer.status_code == 400, (field, answer.get_json())
        assert answer.get_json()["field"] == field, answer.get_json()
    assert feedback.list_annotations(lesson.coach, target.id).annotations == []

    made = coach.post(url, json=document, headers=headers)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["imported"] == 3
    assert {a["author"]["id"] for a in body["annotations"]} == {lesson.coach.id}
    assert [a["imported_author_name"] for a in body["annotations"]] == [
        "Maya Chen",
        "Maya Chen",
        "Ana López",
    ]
    assert body["annotations"][1]["tag"]["level_label"] == "Yes"

    viewer = any_db_app.test_client()
    viewer_headers = {"X-CSRF-Token": login(viewer, lesson.viewer)}
    assert viewer.post(url, json=document, headers=viewer_headers).status_code == 403
    outsider = any_db_app.test_client()
    outsider_headers = {"X-CSRF-Token": login(outsider, lesson.outsider)}
    assert outsider.post(url, json=document, headers=outsider_headers).status_code == 404
    assert any_db_app.test_client().post(url, json=document).status_code == 401

    # A heavily annotated lesson's document is larger than the 1 MiB of other requests.
    big = copy.deepcopy(document)
    big["annotations"] = [
        {**document["annotations"][0], "body": f"{i}: " + "é" * 4900, "replies": []}
        for i in range(300)
    ]
    assert len(json.dumps(big)) > 2 * 1024 * 1024
    made_big = coach.post(url, json=big, headers=headers)
    assert made_big.status_code == 201, made_big.get_json()
    assert made_big.get_json()["imported"] == 300
    huge = coach.post(
        url,
        data=b"{" + b" " * (33 * 1024 * 1024) + b"}",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413


def test_an_imported_document_cannot_speak_as_someone_else(
    lesson: Lesson, any_db_app: Flask, make_video: Callable[..., Video]
) -> None:
    spoofed = "Ana <b>López</b>"
    document = {
        "format": "loupe.annotations",
        "version": 1,
        "annotations": [
            {
                "start_ms": 3000,
                "body": "You must redo this lesson.",
                "kind": "suggestion",
                "visibility": "shared",
                "author": {"id": lesson.teacher.id, "name": lesson.teacher.name},
                "created_at": "2025-03-04T10:00:00Z",
                "replies": [
                    {
                        "author": {"name": spoofed},
                        "body": "Agreed.",
                        "created_at": "2025-03-04T10:05:00Z",
                    }
                ],
            }
        ],
    }
    coach = any_db_app.test_client()
    headers = {"X-CSRF-Token": login(coach, lesson.coach)}
    url = f"/api/videos/{lesson.video.id}/annotations"
    made = coach.post(f"{url}/import", json=document, headers=headers)
    assert made.status_code == 201, made.get_json()
    (out,) = made.get_json()["annotations"]
    me = {"id": lesson.coach.id, "name": "Maya Chen"}
    assert (out["author"], out["imported_author_name"]) == (me, "Ana López")
    assert (out["replies"][0]["author"], out["replies"][0]["imported_author_name"]) == (me, spoofed)
    (listed,) = coach.get(url).get_json()["annotations"]
    assert (listed["author"], listed["imported_author_name"]) == (me, "Ana López")

    (row,) = csv_rows(exports.export_csv(lesson.teacher, lesson.video.id).text)
    assert (row["author"], row["imported_author_name"]) == ("Maya Chen", "Ana López")
    assert row["replies"] == f"Maya Chen (Imported \u2014 originally by {spoofed}): Agreed."
    (cue,) = webvtt.from_string(exports.export_vtt(lesson.teacher, lesson.video.id).text).captions
    assert json.loads(cue.text)["author"] == "Maya Chen"
    assert json.loads(cue.text)["imported_author_name"] == "Ana López"
    page = sheet.debrief_sheet(lesson.teacher, lesson.video.id)
    item = page.groups[0].items[0]
    assert (item.author, item.imported_mark) == (
        "Maya Chen",
        "Imported \u2014 originally by Ana López",
    )
    assert page.coaches == ["Maya Chen"]  # a name in a document is not a coach of this lesson
    teacher = any_db_app.test_client()
    login(teacher, lesson.teacher)
    html = teacher.get(f"/videos/{lesson.video.id}/debrief").data.decode("utf-8")
    assert "Imported \u2014 originally by Ana &lt;b&gt;López&lt;/b&gt;" in html
    assert spoofed not in html

    # The mark survives a round trip, whoever imports the exported document next.
    doc, _ = documents.export_document(lesson.coach, lesson.video.id)
    assert doc.annotations[0].author.name == "Maya Chen"
    assert doc.annotations[0].imported_author_name == "Ana López"
    target = make_video(lesson.teacher, title="Again")
    (again,) = documents.import_annotations(lesson.teacher, target.id, doc)
    assert (again.author_id, again.imported_author_name) == (lesson.teacher.id, "Ana López")
    assert [(r.author_id, r.imported_author_name) for r in again.replies] == [
        (lesson.teacher.id, spoofed)
    ]


def test_debrief_page(lesson: Lesson, any_db_app: Flask) -> None:
    made = populate(lesson)
    publish_storyboard(lesson.video)
    url = f"/videos/{lesson.video.id}/debrief"
    coach = any_db_app.test_client()
    login(coach, lesson.coach)
    page = coach.get(url)
    assert page.status_code == 200
    html = page.data.decode("utf-8")
    assert "Print / Save as PDF" in html
    assert "Talk about pacing --&gt; later" in html  # the author's own private note
    assert "Private note" in html
    assert "<strong>Strong</strong> hook" in html
    assert "I rushed this part. &lt;b&gt;&amp;amp;&lt;/b&gt;" in html  # escaped, never markup
    assert (
        f'data-sprite="/media/{lesson.video.id}/storyboard/sprite-0001.jpg" '
        'data-x="480" data-y="90" data-w="160" data-h="90"'
    ) in html
    # The Content-Security-Policy allows neither inline styles nor inline scripts.
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert (
        html.index("Text complexity</h2>")
        < html.index("Discussion</h2>")
        < html.index("Other feedback</h2>")
    )

    teacher = any_db_app.test_client()
    login(teacher, lesson.teacher)
    theirs = teacher.get(url).data.decode("utf-8")
    assert "Talk about pacing" not in theirs
    assert f"annotation-{made.private.id}" not in theirs
    assert "Other feedback" not in theirs
    viewer = any_db_app.test_client()
    login(viewer, lesson.viewer)
    assert viewer.get(url).status_code == 200
    outsider = any_db_app.test_client()
    login(outsider, lesson.outsider)
    assert outsider.get(url).status_code == 404
    # Without a storyboard the page simply has no thumbnails.
    (storage().output_dir(lesson.video.id) / "storyboard.vtt").unlink()
    assert "data-sprite" not in coach.get(url).data.decode("utf-8")
    signed_out = any_db_app.test_client().get(url)
    assert signed_out.status_code in (302, 401)


def test_empty_lesson_exports(lesson: Lesson) -> None:
    assert csv_rows(exports.export_csv(lesson.teacher, lesson.video.id).text) == []
    assert (
        webvtt.from_string(exports.export_vtt(lesson.teacher, lesson.video.id).text).captions == []
    )
    doc, _ = documents.export_document(lesson.teacher, lesson.video.id)
    assert doc.annotations == []
    page = sheet.debrief_sheet(lesson.teacher, lesson.video.id)
    assert (page.total, page.groups, page.coaches) == (0, [], [])


def test_import_is_announced_live_to_those_who_may_see_it(tmp_path: Path) -> None:
    teacher_email, coach_email = "ana.lopez@riverbend.example", "maya.chen@riverbend.example"
    server = start_server(tmp_path / "live", demo=True, worker=False)
    people: list[Browser] = []
    try:
        with server.app().app_context():
            ana = accounts.find_user_by_email(teacher_email)
            assert ana is not None
            video_id = videos.create_video(ana, title="Live import").id
            videos.share_video(ana, video_id, coach_email, "comment")
        ana_live = Browser(server, teacher_email, DEMO_PASSWORD)
        maya_live = Browser(server, coach_email, DEMO_PASSWORD)
        people += [ana_live, maya_live]

        def item(start_ms: int, visibility: str) -> dict[str, Any]:
            return {
                "start_ms": start_ms,
                "body": f"At {start_ms} ms",
                "kind": "note",
                "visibility": visibility,
                "author": {"id": None, "name": "Someone Else"},
                "created_at": "2025-03-04T10:00:00Z",
            }

        document = {
            "format": "loupe.annotations",
            "version": 1,
            "annotations": [item(1000, "shared"), item(2000, "private"), item(3000, "shared")],
        }
        answer = maya_live.http.post(
            f"{server.url}/api/videos/{video_id}/annotations/import", json=document
        )
        assert answer.status_code == 201, answer.text
        ids = [a["id"] for a in answer.json()["annotations"]]
        heard = [
            maya_live.expect("annotation.changed", video_id=video_id)["annotation"]["id"]
            for _ in ids
        ]
        assert heard == ids
        # Ana hears of the shared two; the next thing she hears is a later note, never the
        # private one (events reach one socket in order).
        later = maya_live.http.post(
            f"{server.url}/api/videos/{video_id}/annotations", json={"start_ms": 0, "body": "Hi"}
        ).json()["id"]
        told = [
            ana_live.expect("annotation.changed", video_id=video_id)["annotation"] for _ in range(3)
        ]
        assert [a["id"] for a in told] == [ids[0], ids[2], later]
        assert told[0]["author"]["name"] == "Maya Chen"  # the importer; the name is only a mark
        assert told[0]["imported_author_name"] == "Someone Else"
    finally:
        for person in people:
            person.close()
        stop_server(server)
