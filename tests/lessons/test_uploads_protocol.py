"""The tus 1.0 protocol to the letter: creation, offsets, checksums, expiry, limits."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import User
from app.core.db import utcnow
from app.core.extensions import db
from app.core.storage import storage
from app.lessons import uploads
from app.lessons.models import Upload, Video
from tests.conftest import login
from tests.lessons.conftest import OCTETS, TUS, Tus, b64


def metadata(**values: str) -> str:
    return ",".join(f"{k} {b64(v)}" for k, v in values.items())


@pytest.fixture
def teacher(app: Flask, make_user: Callable[..., User]) -> User:
    return make_user("teacher")


@pytest.fixture
def tus(app: Flask, teacher: User) -> Tus:
    client = app.test_client()
    return Tus(client, login(client, teacher))


def test_discovery(client: FlaskClient) -> None:
    response = client.options("/api/uploads/")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "checksum",
        "expiration",
    }
    assert int(response.headers["Tus-Max-Size"]) > 0
    assert "sha1" in response.headers["Tus-Checksum-Algorithm"].split(",")


def test_whole_upload_becomes_a_lesson(tus: Tus, teacher: User) -> None:
    data = b"lesson bytes " * 1000
    created = tus.create(
        len(data),
        metadata(
            filename="IMG_0042.MOV",
            title="Station rotation",
            subject="Math",
            grade="3",
            recorded_at="2026-03-14",
        ),
    )
    assert created.status_code == 201
    url = created.headers["Location"]
    assert created.headers["Upload-Offset"] == "0"
    assert "Upload-Expires" in created.headers
    first = tus.patch(url, 0, data[:5000])
    assert first.status_code == 204
    assert first.headers["Upload-Offset"] == "5000"
    assert "Loupe-Video-Id" not in first.headers
    head = tus.head(url)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "5000"
    assert head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Cache-Control"] == "no-store"
    assert head.headers["Upload-Metadata"].startswith("filename ")
    last = tus.patch(url, 5000, data[5000:])
    assert last.status_code == 204
    video_id = int(last.headers["Loupe-Video-Id"])
    video = db.session.get(Video, video_id)
    assert video is not None
    assert (video.title, video.subject, video.grade, str(video.recorded_at)) == (
        "Station rotation",
        "Math",
        "3",
        "2026-03-14",
    )
    assert video.source_bytes == len(data)
    source = storage().source_path(video_id)
    assert source is not None
    assert source.read_bytes() == data
    assert source.name == "source.mov"
    listed = tus.client.get("/api/videos").get_json()
    assert [v["id"] for v in listed] == [video_id]
    assert tus.head(url).headers["Loupe-Video-Id"] == str(video_id)


def test_creation_with_upload(tus: Tus) -> None:
    data = b"x" * 2048
    response = tus.client.post(
        "/api/uploads/",
        data=data[:1000],
        content_type=OCTETS,
        headers={**tus.headers, "Upload-Length": str(len(data))},
    )
    assert response.status_code == 201
    assert response.headers["Upload-Offset"] == "1000"


def test_offset_mismatch_is_409_and_changes_nothing(tus: Tus) -> None:
    url = tus.create(100).headers["Location"]
    tus.patch(url, 0, b"a" * 40)
    for wrong in (0, 39, 41, 100):
        assert tus.patch(url, wrong, b"b" * 10).status_code == 409
    assert tus.head(url).headers["Upload-Offset"] == "40"


def test_checksum_mismatch_is_460_and_the_chunk_is_discarded(tus: Tus) -> None:
    url = tus.create(100).headers["Location"]
    good = b"g" * 30
    ok = tus.patch(
        url,
        0,
        good,
        **{"Upload-Checksum": "sha1 " + base64.b64encode(hashlib.sha1(good).digest()).decode()},
    )
    assert ok.status_code == 204
    wrong = "sha1 " + base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    refused = tus.patch(url, 30, b"h" * 30, **{"Upload-Checksum": wrong})
    assert refused.status_code == 460
    assert tus.head(url).headers["Upload-Offset"] == "30"
    upload_id = url.rsplit("/", 1)[1]
    assert uploads.upload_path(upload_id).read_bytes()[30:] == b""
    md5 = tus.patch(
        url,
        30,
        b"m" * 10,
        **{"Upload-Checksum": "md5 " + base64.b64encode(hashlib.md5(b"m" * 10).digest()).decode()},
    )
    assert md5.status_code == 204
    unknown = tus.patch(url, 40, b"z", **{"Upload-Checksum": "crc32 AAAA"})
    assert unknown.status_code == 400


def test_termination(tus: Tus) -> None:
    url = tus.create(10).headers["Location"]
    upload_id = url.rsplit("/", 1)[1]
    assert uploads.upload_path(upload_id).exists()
    assert tus.client.delete(url, headers=tus.headers).status_code == 204
    assert not uploads.upload_path(upload_id).exists()
    assert tus.head(url).status_code == 404
    assert tus.patch(url, 0, b"x").status_code == 404


def test_expiry_and_cleanup(tus: Tus, app: Flask) -> None:
    url = tus.create(10).headers["Location"]
    upload_id = url.rsplit("/", 1)[1]
    tus.patch(url, 0, b"12345")
    upload = db.session.get(Upload, upload_id)
    assert upload is not None
    upload.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert tus.head(url).status_code == 410
    assert tus.patch(url, 5, b"67890").status_code == 410
    assert uploads.remove_expired() == 1
    assert not uploads.upload_path(upload_id).exists()
    assert tus.head(url).status_code == 410  # remembered as gone for a grace period...
    upload = db.session.get(Upload, upload_id)
    assert upload is not None
    upload.expires_at = utcnow() - timedelta(days=8)
    db.session.commit()
    uploads.remove_expired()
    assert tus.head(url).status_code == 404  # ...then forgotten


def test_limits_and_quota(tus: Tus, app: Flask) -> None:
    app.config["UPLOAD_MAX_BYTES"] = 1000
    too_big = tus.create(1001)
    assert too_big.status_code == 413
    assert "too large" in too_big.get_json()["error"]
    app.config["USER_QUOTA_BYTES"] = 1500
    assert tus.create(1000).status_code == 201
    over = tus.create(600)
    assert over.status_code == 413
    assert "quota" in over.get_json()["error"]
    url = tus.create(400).headers["Location"]
    assert tus.patch(url, 0, b"x" * 401).status_code == 413
    assert tus.head(url).headers["Upload-Offset"] == "0"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 400),
        ({"Upload-Length": "-5"}, 400),
        ({"Upload-Length": "ten"}, 400),
        ({"Upload-Length": "0"}, 400),
        ({"Upload-Length": "10", "Upload-Metadata": "title not-base64!"}, 400),
        ({"Upload-Length": "10", "Upload-Metadata": f"recorded_at {b64('yesterday')}"}, 400),
        ({"Upload-Length": "10", "Tus-Resumable": "0.2.2"}, 412),
    ],
)
def test_bad_creation_requests(tus: Tus, headers: dict[str, str], status: int) -> None:
    response = tus.client.post("/api/uploads/", headers={**tus.headers, **headers})
    assert response.status_code == status
    if status == 412:
        assert response.headers["Tus-Version"] == "1.0.0"


@pytest.mark.parametrize(
    "length",
    ["\u00b2", "\u00b9\u00b2\u00b3", "1_000", "1" + "0" * 30, str(2**63), "+5", " "],
    ids=["superscript", "superscripts", "underscore", "10^30", "2^63", "sign", "blank"],
)
def test_only_ascii_digits_in_range_are_a_length(tus: Tus, length: str) -> None:
    # Headers arrive as latin-1, where str.isdigit() accepts '¹²³' and int() refuses them:
    # that was a 500.
    response = tus.client.post("/api/uploads/", headers={**tus.headers, "Upload-Length": length})
    assert response.status_code == 400
    assert response.get_json()["field"] == "Upload-Length"


@pytest.mark.parametrize("offset", ["\u00b2", "1 0", "9" * 40])
def test_only_ascii_digits_in_range_are_an_offset(tus: Tus, offset: str) -> None:
    url = tus.create(10).headers["Location"]
    response = tus.client.patch(
        url,
        data=b"x",
        headers={**tus.headers, "Upload-Offset": offset},
        content_type=OCTETS,
    )
    assert response.status_code == 400
    assert response.get_json()["field"] == "Upload-Offset"
    assert tus.head(url).headers["Upload-Offset"] == "0"


def test_patch_needs_the_right_content_type_and_version(tus: Tus) -> None:
    url = tus.create(10).headers["Location"]
    wrong_type = tus.client.patch(
        url,
        data=b"x",
        headers={**tus.headers, "Upload-Offset": "0"},
        content_type="application/json",
    )
    assert wrong_type.status_code == 415
    no_version = tus.client.patch(
        url,
        data=b"x",
        headers={"X-CSRF-Token": tus.headers["X-CSRF-Token"], "Upload-Offset": "0"},
        content_type=OCTETS,
    )
    assert no_version.status_code == 412
    assert tus.patch(url, -1, b"x").status_code == 400


def test_only_the_creator_touches_an_upload(
    app: Flask, tus: Tus, make_user: Callable[..., User]
) -> None:
    url = tus.create(10).headers["Location"]
    other_client = app.test_client()
    other = Tus(other_client, login(other_client, make_user("teacher")))
    assert other.head(url).status_code == 404
    assert other.patch(url, 0, b"x").status_code == 404
    assert other.client.delete(url, headers=other.headers).status_code == 404
    anonymous = app.test_client()
    assert anonymous.head(url, headers=TUS).status_code == 401
    assert anonymous.post("/api/uploads/", headers={**TUS, "Upload-Length": "5"}).status_code in (
        401,
        403,
    )


def test_cookie_uploads_need_the_csrf_token(tus: Tus) -> None:
    response = tus.client.post("/api/uploads/", headers={**TUS, "Upload-Length": "5"})
    assert response.status_code == 403


def test_admins_cannot_upload(app: Flask, make_user: Callable[..., User]) -> None:
    client = app.test_client()
    admin = Tus(client, login(client, make_user("admin")))
    assert admin.create(10).status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "lesson\x00.mp4",
        "x" * 5000 + ".mp4",
        "урок математики.mp4",
        "课堂.MOV",
        "..",
        "/abs/path.mkv",
        "C:\\\\evil.avi",
    ],
)
def test_file_names_never_choose_where_bytes_go(tus: Tus, name: str, app: Flask) -> None:
    data = b"abc"
    created = tus.create(len(data), metadata(filename=name[:900]))
    assert created.status_code == 201
    url = created.headers["Location"]
    upload_id = url.rsplit("/", 1)[1]
    assert uploads.upload_path(upload_id).parent == app.config["UPLOAD_DIR"]
    video_id = int(tus.patch(url, 0, data).headers["Loupe-Video-Id"])
    source = storage().source_path(video_id)
    assert source is not None
    assert source.parent == storage().video_dir(video_id)
    assert source.name.startswith("source.")
    assert source.read_bytes() == data


def test_a_dropped_connection_keeps_what_arrived(tus: Tus) -> None:
    url = tus.create(100).headers["Location"]
    # The client promises 60 bytes but the connection ends after 25.
    response = tus.client.patch(
        url,
        input_stream=io.BytesIO(b"d" * 25),
        headers={**tus.headers, "Upload-Offset": "0", "Content-Length": "60"},
        content_type=OCTETS,
    )
    assert response.status_code in (204, 400)  # nobody is there to read it
    assert tus.head(url).headers["Upload-Offset"] == "25"
    assert tus.patch(url, 25, b"e" * 75).status_code == 204


def test_browser_sized_chunks_pass_with_the_session_cookie(tus: Tus) -> None:
    chunk = b"c" * (
        5 * 1024 * 1024
    )  # the page's chunk size, far over the 1 MiB cap on other requests
    created = tus.client.post(
        "/api/uploads/",
        data=chunk[: 2 * 1024 * 1024],
        content_type=OCTETS,
        headers={**tus.headers, "Upload-Length": str(2 * len(chunk))},
    )
    assert created.status_code == 201
    assert created.headers["Upload-Offset"] == str(2 * 1024 * 1024)
    url = created.headers["Location"]
    assert tus.patch(url, 2 * 1024 * 1024, chunk).status_code == 204
    # Everywhere else the 1 MiB cap still holds.
    big_json = tus.client.post(
        "/api/tokens",
        data=b"x" * (2 * 1024 * 1024),
        content_type="application/json",
        headers=tus.headers,
    )
    assert big_json.status_code == 413


def test_signed_out_writes_get_401_not_a_csrf_error(app: Flask) -> None:
    client = app.test_client()
    assert client.post("/api/uploads/", headers={**TUS, "Upload-Length": "5"}).status_code == 401
    assert (
        client.patch(
            "/api/uploads/abcdefghijklmnopqrstuvwx", headers=TUS, content_type=OCTETS
        ).status_code
        == 401
    )
    assert client.post("/api/tokens", json={"name": "x"}).status_code == 401


def test_big_chunks_with_a_bearer_token(app: Flask, teacher: User, client: FlaskClient) -> None:
    from app.accounts import tokens as api_tokens

    _, raw = api_tokens.create_api_token(teacher, "obs")
    headers = {**TUS, "Authorization": f"Bearer {raw}"}
    chunk = b"t" * (8 * 1024 * 1024)
    created = client.post("/api/uploads/", headers={**headers, "Upload-Length": str(len(chunk))})
    assert created.status_code == 201
    done = client.patch(
        created.headers["Location"],
        data=chunk,
        content_type=OCTETS,
        headers={**headers, "Upload-Offset": "0"},
    )
    assert done.status_code == 204
    assert "Loupe-Video-Id" in done.headers
