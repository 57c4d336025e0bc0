"""Frameworks: built-ins in every district, versions that never rewrite the past, import/export."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app.accounts.models import Organization, User
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.frameworks import service as frameworks
from app.frameworks.models import Framework, FrameworkStatus, RubricLevel
from tests.conftest import SPEC, login


def test_every_new_district_starts_with_the_built_ins(
    app: Flask, district: Callable[..., Organization], make_user: Callable[..., User]
) -> None:
    teacher = make_user("teacher", org=district("north"))
    found = {f.builtin: f for f in frameworks.list_frameworks(teacher)}
    assert set(found) == {"loupe-five", "glow-grow"}
    five = found["loupe-five"]
    assert [d.name for d in five.dimensions] == [
        "Classroom culture",
        "Lesson content",
        "Student engagement",
        "Access to content",
        "Monitoring of student progress",
    ]
    for dimension in five.dimensions:
        assert [lv.label for lv in dimension.levels] == [
            "Beginning",
            "Developing",
            "Proficient",
            "Exemplary",
        ]
        assert all(len(lv.descriptor) > 40 for lv in dimension.levels)
    assert [d.name for d in found["glow-grow"].dimensions] == ["Glow", "Grow"]
    assert frameworks.ensure_builtins() == 0  # idempotent


def test_editing_a_published_framework_makes_a_new_version(
    app: Flask, make_user: Callable[..., User]
) -> None:
    coach = make_user("coach")
    first = frameworks.create_framework(coach, frameworks.parse_spec(SPEC), publish=True)
    old_level_ids = [lv.id for d in first.dimensions for lv in d.levels]
    changed = copy.deepcopy(SPEC)
    changed["dimensions"][0]["levels"][1]["label"] = "Meets"
    second = frameworks.update_framework(coach, first.id, frameworks.parse_spec(changed))
    assert second.id != first.id
    assert (second.family, second.version, second.status) == (
        first.family,
        2,
        FrameworkStatus.PUBLISHED,
    )
    db.session.refresh(first)
    assert first.status == FrameworkStatus.SUPERSEDED
    # What feedback already points at is untouched.
    assert [db.session.get(RubricLevel, i).label for i in old_level_ids] == ["Not yet", "Yes"]  # type: ignore[union-attr]
    assert [f.id for f in frameworks.list_frameworks(coach) if f.family == first.family] == [
        second.id
    ]
    with pytest.raises(Conflict):
        frameworks.update_framework(coach, first.id, frameworks.parse_spec(SPEC))


def test_drafts_change_in_place_and_only_editors_see_them(
    app: Flask, make_user: Callable[..., User], district: Callable[..., Organization]
) -> None:
    admin, teacher = make_user("admin"), make_user("teacher")
    draft = frameworks.create_framework(admin, frameworks.parse_spec(SPEC))
    assert draft.status == FrameworkStatus.DRAFT
    renamed = frameworks.update_framework(
        admin, draft.id, frameworks.parse_spec({**SPEC, "name": "Renamed"})
    )
    assert (renamed.id, renamed.name, renamed.version) == (draft.id, "Renamed", 1)
    with pytest.raises(NotFound):
        frameworks.get_framework(teacher, draft.id)
    with pytest.raises(Forbidden):
        frameworks.create_framework(teacher, frameworks.parse_spec(SPEC))
    with pytest.raises(NotFound):
        frameworks.get_framework(make_user("admin", org=district("away")), draft.id)
    published = frameworks.publish(admin, draft.id)
    assert frameworks.get_framework(teacher, published.id).status == FrameworkStatus.PUBLISHED
    with pytest.raises(Conflict):
        frameworks.publish(admin, draft.id)


def test_export_and_import_round_trip(app: Flask, make_user: Callable[..., User]) -> None:
    coach = make_user("coach")
    made = frameworks.create_framework(coach, frameworks.parse_spec(SPEC))
    exported = frameworks.export_spec(made)
    again = frameworks.create_framework(coach, frameworks.parse_spec(exported))
    assert frameworks.export_spec(again) == exported
    assert exported["dimensions"][0]["colour"] == "#0891b2"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"dimensions": []}, "dimensions"),
        ({"dimensions": [{"name": "X", "colour": "red"}]}, "dimensions.0.colour"),
        (
            {
                "dimensions": [
                    {
                        "name": "X",
                        "levels": [{"score": 1, "label": "a"}, {"score": 1, "label": "b"}],
                    }
                ]
            },
            "dimensions.0",
        ),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_framework_json_names_the_field(app: Flask, change: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as bad:
        frameworks.parse_spec({**SPEC, **change})
    assert bad.value.field == field


def test_frameworks_api(app: Flask, make_user: Callable[..., User]) -> None:
    coach, teacher = make_user("coach"), make_user("teacher")
    client, reader = app.test_client(), app.test_client()
    csrf = login(client, coach)
    login(reader, teacher)
    listed = reader.get("/api/frameworks").get_json()
    assert {f["builtin"] for f in listed} == {"loupe-five", "glow-grow"}
    five = next(f for f in listed if f["builtin"] == "loupe-five")
    assert five["dimensions"][0]["levels"][0]["id"] > 0
    assert five["dimensions"][0]["colour"].startswith("#")

    created = client.post("/api/frameworks?publish=1", json=SPEC, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "published"
    edited = client.put(
        f"/api/frameworks/{body['id']}", json={**SPEC, "name": "v2"}, headers={"X-CSRF-Token": csrf}
    )
    assert edited.status_code == 200
    assert (edited.get_json()["version"], edited.get_json()["name"]) == (2, "v2")
    exported = client.get(f"/api/frameworks/{edited.get_json()['id']}/export")
    assert exported.headers["Content-Disposition"].startswith("attachment")
    imported = client.post(
        "/api/frameworks/import", json=exported.get_json(), headers={"X-CSRF-Token": csrf}
    )
    assert imported.status_code == 201
    assert imported.get_json()["status"] == "draft"
    assert (
        reader.post(
            "/api/frameworks", json=SPEC, headers={"X-CSRF-Token": login(reader, teacher)}
        ).status_code
        == 403
    )
    bad = client.post(
        "/api/frameworks", json={**SPEC, "dimensions": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert bad.status_code == 400
    assert bad.get_json()["field"] == "dimensions"
    assert client.get("/api/frameworks/99999").status_code == 404
    assert db.session.query(Framework).count() >= 5


def test_saving_an_unchanged_framework_makes_no_version_and_teachers_see_no_old_ones(
    app: Flask, make_user: Callable[..., User]
) -> None:
    coach = make_user("coach")
    first = frameworks.create_framework(coach, frameworks.parse_spec(SPEC), publish=True)
    same = frameworks.update_framework(coach, first.id, frameworks.parse_spec(SPEC))
    assert same.id == first.id
    changed = copy.deepcopy(SPEC)
    changed["name"] = "Literacy look-fors (2027)"
    frameworks.update_framework(coach, first.id, frameworks.parse_spec(changed))
    teacher = make_user("teacher")
    seen = frameworks.list_frameworks(teacher, include_superseded=True)
    assert first.id not in [f.id for f in seen]
    assert first.id in [f.id for f in frameworks.list_frameworks(coach, include_superseded=True)]
    with pytest.raises(Invalid) as bad:
        frameworks.parse_spec({**SPEC, "dimensions": [{"name": "x", "colour": "red"}]})
    assert bad.value.message == "dimensions.0.colour: colour must look like #1a2b3c"
