"""Media files: served only after a policy check, with ranges and the right types, never outside."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import User
from app.core.storage import storage
from app.lessons import service as videos
from app.lessons.models import Video
from tests.conftest import login

FILES = {
    "hls/master.m3u8": ("application/vnd.apple.mpegurl", b"#EXTM3U\n"),
    "hls/720p/seg_00001.m4s": ("video/iso.segment", b"\x00" * 64),
    "hls/360p/seg_00001.ts": ("video/mp2t", b"\x47" * 188),
    "video.mp4": ("video/mp4", bytes(range(256)) * 40),
    "storyboard.vtt": ("text/vtt", b"WEBVTT\n"),
    "poster.jpg": ("image/jpeg", b"\xff\xd8\xff\xe0"),
    "peaks.json": ("application/json", b'{"version": 2}'),
}


@pytest.fixture
def published(
    app: Flask, make_user: Callable[..., User], make_video: Callable[..., Video]
) -> tuple[Video, User]:
    teacher = make_user("teacher")
    video = make_video(teacher)
    out = storage().output_dir(video.id)
    for rel, (_, body) in FILES.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(body)
    (storage().video_dir(video.id) / "source.mp4").write_bytes(b"original upload")
    return video, teacher


def test_types_and_bodies(app: Flask, published: tuple[Video, User]) -> None:
    video, teacher = published
    client = app.test_client()
    login(client, teacher)
    for rel, (mime, body) in FILES.items():
        response = client.get(f"/media/{video.id}/{rel}")
        assert response.status_code == 200, rel
        assert response.mimetype == mime, rel
        assert response.data == body
        assert response.headers["Cache-Control"] == "private, no-store"


def test_range_requests(app: Flask, published: tuple[Video, User]) -> None:
    video, teacher = published
    client = app.test_client()
    login(client, teacher)
    full = FILES["video.mp4"][1]
    part = client.get(f"/media/{video.id}/video.mp4", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.data == full[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(full)}"
    assert part.headers["Accept-Ranges"] == "bytes"
    tail = client.get(f"/media/{video.id}/video.mp4", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206
    assert tail.data == full[-10:]
    beyond = client.get(
        f"/media/{video.id}/video.mp4", headers={"Range": f"bytes={len(full) + 5}-"}
    )
    assert beyond.status_code == 416


@pytest.mark.parametrize(
    "path",
    [
        "../source.mp4",
        "..%2Fsource.mp4",
        "hls/../../source.mp4",
        "%2e%2e/source.mp4",
        "/etc/passwd",
        "..%5csource.mp4",
        "hls/master.m3u8%00.jpg",
        "source.mp4",
        "../../../../secret_key",
        "nothing.mp4",
        "hls",
    ],
)
def test_nothing_outside_the_published_folder(
    app: Flask, published: tuple[Video, User], path: str
) -> None:
    video, teacher = published
    client = app.test_client()
    login(client, teacher)
    response = client.get(f"/media/{video.id}/{path}", follow_redirects=True)
    assert response.status_code == 404, path
    assert b"original upload" not in response.data


def test_links_out_of_the_folder_are_not_followed(
    app: Flask, published: tuple[Video, User]
) -> None:
    video, teacher = published
    os.symlink(
        storage().video_dir(video.id) / "source.mp4", storage().output_dir(video.id) / "leak.mp4"
    )
    client = app.test_client()
    login(client, teacher)
    assert client.get(f"/media/{video.id}/leak.mp4").status_code == 404


def test_media_follows_the_share(
    app: Flask, published: tuple[Video, User], make_user: Callable[..., User]
) -> None:
    video, teacher = published
    coach = make_user("coach")
    client = app.test_client()
    assert client.get(f"/media/{video.id}/video.mp4").status_code == 401
    login(client, coach)
    assert client.get(f"/media/{video.id}/video.mp4").status_code == 404
    share = videos.share_video(teacher, video.id, coach.email, "view")
    assert client.get(f"/media/{video.id}/video.mp4").status_code == 200
    download = client.get(f"/media/{video.id}/video.mp4?download=1")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    videos.revoke_share(teacher, video.id, share.id)
    assert client.get(f"/media/{video.id}/video.mp4").status_code == 404
    assert client.get(f"/media/{video.id}/hls/master.m3u8").status_code == 404


def test_media_with_a_bearer_token(
    app: Flask, published: tuple[Video, User], client: FlaskClient
) -> None:
    from app.accounts import tokens as api_tokens

    video, teacher = published
    _, raw = api_tokens.create_api_token(teacher, "player")
    response = client.get(
        f"/media/{video.id}/poster.jpg", headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 200
