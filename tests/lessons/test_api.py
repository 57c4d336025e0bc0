"""Videos through the API: private by default, shared and revoked at once, audited."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts.models import Organization, User
from app.core.audit_models import AuditEvent
from app.core.extensions import db
from app.core.storage import storage
from app.lessons.models import Video
from tests.conftest import login


def audit_actions(video: Video) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "video", AuditEvent.object_id == str(video.id))
            .order_by(AuditEvent.id)
        )
    )


def test_owner_shares_and_revokes(
    app: Flask, make_user: Callable[..., User], make_video: Callable[..., Video]
) -> None:
    teacher, coach = make_user("teacher"), make_user("coach")
    video = make_video(teacher, title="Ratios, period 3")
    owner, viewer = app.test_client(), app.test_client()
    owner_csrf, _ = login(owner, teacher), login(viewer, coach)

    assert viewer.get("/api/videos").get_json() == []
    assert viewer.get(f"/api/videos/{video.id}").status_code == 404

    created = owner.post(
        f"/api/videos/{video.id}/shares",
        json={"email": coach.email.upper(), "permission": "comment"},
        headers={"X-CSRF-Token": owner_csrf},
    )
    assert created.status_code == 201
    share = created.get_json()
    assert share["grantee"]["email"] == coach.email
    assert share["permission"] == "comment"

    listed = viewer.get("/api/videos").get_json()
    assert [v["title"] for v in listed] == ["Ratios, period 3"]
    assert listed[0]["permissions"] == ["comment", "download", "view"]
    assert not listed[0]["is_owner"]
    assert viewer.get(f"/api/videos/{video.id}").status_code == 200
    assert owner.get(f"/api/videos/{video.id}/shares").get_json()[0]["id"] == share["id"]
    assert viewer.get(f"/api/videos/{video.id}/shares").status_code == 403

    revoked = owner.delete(
        f"/api/videos/{video.id}/shares/{share['id']}", headers={"X-CSRF-Token": owner_csrf}
    )
    assert revoked.status_code == 204
    assert viewer.get(f"/api/videos/{video.id}").status_code == 404
    assert viewer.get("/api/videos").get_json() == []
    assert viewer.get(f"/videos/{video.id}").status_code == 404
    again = owner.delete(
        f"/api/videos/{video.id}/shares/{share['id']}", headers={"X-CSRF-Token": owner_csrf}
    )
    assert again.status_code == 404

    assert audit_actions(video) == [
        "video.created",
        "video.access_denied",
        "video.shared",
        "video.viewed",
        "video.access_denied",
        "video.share_revoked",
        "video.access_denied",
        "video.access_denied",
    ]


def test_resharing_changes_the_permission(
    app: Flask, make_user: Callable[..., User], make_video: Callable[..., Video]
) -> None:
    teacher, coach = make_user("teacher"), make_user("coach")
    video = make_video(teacher)
    client = app.test_client()
    csrf = login(client, teacher)
    first = client.post(
        f"/api/videos/{video.id}/shares",
        json={"email": coach.email, "permission": "view"},
        headers={"X-CSRF-Token": csrf},
    ).get_json()
    second = client.post(
        f"/api/videos/{video.id}/shares",
        json={"email": coach.email, "permission": "comment"},
        headers={"X-CSRF-Token": csrf},
    ).get_json()
    assert first["id"] == second["id"]
    assert second["permission"] == "comment"
    assert len(client.get(f"/api/videos/{video.id}/shares").get_json()) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"permission": "view"}, "email"),
        ({"email": "not-an-email", "permission": "view"}, "email"),
        ({"email": "coach@school.example", "permission": "admin"}, "permission"),
        ({"email": "coach@school.example", "permission": "view", "extra": 1}, "extra"),
        ({"email": 42, "permission": "view"}, "email"),
        ([1, 2], "body"),
        ("just text", "body"),
    ],
)
def test_share_bad_input_names_the_field(
    app: Flask,
    make_user: Callable[..., User],
    make_video: Callable[..., Video],
    body: object,
    field: str,
) -> None:
    teacher = make_user("teacher")
    video = make_video(teacher)
    client = app.test_client()
    csrf = login(client, teacher)
    response = client.post(
        f"/api/videos/{video.id}/shares", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_malformed_json_is_a_clear_400(
    app: Flask, make_user: Callable[..., User], make_video: Callable[..., Video]
) -> None:
    teacher = make_user("teacher")
    video = make_video(teacher)
    client = app.test_client()
    csrf = login(client, teacher)
    response = client.post(
        f"/api/videos/{video.id}/shares",
        data="{oops",
        content_type="application/json",
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 400
    assert response.get_json()["field"] == "body"


def test_no_sharing_across_districts_or_with_admins(
    app: Flask,
    district: Callable[..., Organization],
    make_user: Callable[..., User],
    make_video: Callable[..., Video],
) -> None:
    home, away = district("home"), district("away")
    teacher = make_user("teacher", org=home)
    video = make_video(teacher)
    client = app.test_client()
    csrf = login(client, teacher)
    for grantee in (make_user("coach", org=away), make_user("admin", org=home)):
        response = client.post(
            f"/api/videos/{video.id}/shares",
            json={"email": grantee.email, "permission": "view"},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 400
        assert response.get_json() == {
            "error": "No active coach or teacher of your district has this email.",
            "field": "email",
        }


def test_only_the_owner_deletes_and_every_file_goes(
    app: Flask, make_user: Callable[..., User], make_video: Callable[..., Video]
) -> None:
    teacher, coach = make_user("teacher"), make_user("coach")
    video = make_video(teacher)
    folder = storage().output_dir(video.id)
    folder.mkdir(parents=True)
    (folder / "video.mp4").write_bytes(b"\0" * 100)
    owner, other = app.test_client(), app.test_client()
    owner_csrf, coach_csrf = login(owner, teacher), login(other, coach)
    owner.post(
        f"/api/videos/{video.id}/shares",
        json={"email": coach.email, "permission": "comment"},
        headers={"X-CSRF-Token": owner_csrf},
    )

    assert (
        other.delete(f"/api/videos/{video.id}", headers={"X-CSRF-Token": coach_csrf}).status_code
        == 403
    )
    assert (
        owner.delete(f"/api/videos/{video.id}", headers={"X-CSRF-Token": owner_csrf}).status_code
        == 204
    )
    assert not storage().video_dir(video.id).exists()
    assert owner.get(f"/api/videos/{video.id}").status_code == 404
    assert (
        owner.delete(f"/api/videos/{video.id}", headers={"X-CSRF-Token": owner_csrf}).status_code
        == 404
    )
    assert "video.deleted" in audit_actions(video)


def test_admin_cannot_see_unshared_videos(
    app: Flask, make_user: Callable[..., User], make_video: Callable[..., Video]
) -> None:
    teacher, admin = make_user("teacher"), make_user("admin")
    video = make_video(teacher)
    client = app.test_client()
    login(client, admin)
    assert client.get("/api/videos").get_json() == []
    assert client.get(f"/api/videos/{video.id}").status_code == 404
    assert client.get(f"/media/{video.id}/video.mp4").status_code == 404


def test_unknown_ids_and_routes(client: FlaskClient, make_user: Callable[..., User]) -> None:
    csrf = login(client, make_user())
    assert client.get("/api/videos/999999").status_code == 404
    assert client.delete("/api/videos/999999", headers={"X-CSRF-Token": csrf}).status_code == 404
    assert (
        client.delete("/api/videos/1/shares/999", headers={"X-CSRF-Token": csrf}).status_code == 404
    )
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404
    assert "error" in missing.get_json()
    wrong_method = client.put("/api/videos", headers={"X-CSRF-Token": csrf})
    assert wrong_method.status_code == 405
    assert "error" in wrong_method.get_json()


def test_openapi_documents_every_json_endpoint(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    expected = {
        ("/api/auth/login", "post"),
        ("/api/auth/logout", "post"),
        ("/api/me", "get"),
        ("/api/videos", "get"),
        ("/api/videos/{video_id}", "get"),
        ("/api/videos/{video_id}", "delete"),
        ("/api/videos/{video_id}/shares", "get"),
        ("/api/videos/{video_id}/shares", "post"),
        ("/api/videos/{video_id}/shares/{share_id}", "delete"),
        ("/api/tokens", "get"),
        ("/api/tokens", "post"),
        ("/api/tokens/{token_id}", "delete"),
        ("/api/system/ping", "post"),
    }
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert expected <= documented
    # ...and every /api rule of the app is documented, so new endpoints cannot be forgotten.
    app = client.application
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method.lower()) in documented, (path, method)
    share = doc["paths"]["/api/videos/{video_id}/shares"]["post"]
    schema = doc["components"]["schemas"]["ShareIn"]
    assert share["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ShareIn")
    assert schema["properties"]["permission"]["enum"] == ["view", "comment"]


@pytest.mark.parametrize(
    "video_id", ["99999999999999999999", str(2**63), str(2**31), "0", "\u0663", "00000000001"]
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_ids_no_row_can_have_are_404(
    app: Flask, make_user: Callable[..., User], video_id: str, method: str
) -> None:
    # Ids above the database's range reached it: a 500 (SQLite overflow, PostgreSQL int4).
    client = app.test_client()
    csrf = login(client, make_user("teacher"))
    response = client.open(
        f"/api/videos/{video_id}", method=method, json={}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 404, response.get_json()
    assert "error" in response.get_json()


def test_openapi_documents_id_ranges_and_the_tus_refusals(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    (video_id,) = paths["/api/videos/{video_id}"]["get"]["parameters"]
    assert video_id["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    since = paths["/api/videos/{video_id}/annotations"]["get"]["parameters"][1]
    assert (since["name"], since["in"], since["schema"]["maximum"]) == ("since", "query", 2**63 - 1)
    tus = [("/api/uploads/", "post")] + [("/api/uploads/{upload_id}", m) for m in ("head", "patch")]
    for path, method in [*tus, ("/api/uploads/{upload_id}", "delete")]:
        operation = paths[path][method]
        assert "412" in operation["responses"], (path, method)
        assert "Tus-Resumable" in {p["name"] for p in operation["parameters"]}
    assert "412" not in paths["/api/uploads/{upload_id}"]["get"]["responses"]
    assert "413" in paths["/api/videos/{video_id}/shares"]["post"]["responses"]
    # gunicorn refuses a request line past 4094 bytes: 200 emoji in a title percent-encode to 2400.
    assert "414" in paths["/api/live/whip"]["post"]["responses"]
