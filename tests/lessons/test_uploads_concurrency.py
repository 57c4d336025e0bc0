"""Two requests writing one upload at once are serialised, by a file lock or by Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import REDIS_URL, LiveServer, need, start_server, stop_server, wait_until
from tests.lessons.conftest import token_for

CHUNK = 512 * 1024


@pytest.fixture(params=["file lock", pytest.param("redis lock", marks=pytest.mark.redis)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    extra = {"LOUPE_UPLOAD_LOCK_WAIT_S": "1"}
    if request.param == "redis lock":
        need(REDIS_URL is not None, "LOUPE_TEST_REDIS_URL is not set (no Redis to test against)")
        assert REDIS_URL is not None
        extra |= {"LOUPE_REDIS_URL": REDIS_URL, "LOUPE_BROKER_URL": REDIS_URL}
    live = start_server(tmp_path / "live", demo=True, worker=False, **extra)
    yield live
    stop_server(live)


def test_a_second_writer_is_turned_away_while_the_first_writes(server: LiveServer) -> None:
    token = token_for(server, "ana.lopez@riverbend.example")
    headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    created = requests.post(
        f"{server.url}/api/uploads/",
        headers={**headers, "Upload-Length": str(4 * CHUNK)},
        timeout=10,
    )
    url = created.headers["Location"]
    part = server.data_dir / "uploads" / (url.rsplit("/", 1)[1] + ".part")
    patch_headers = {
        **headers,
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": "0",
    }
    b_answered = threading.Event()
    answers: dict[str, int] = {}

    def a_body() -> Iterator[bytes]:
        yield b"a" * (2 * CHUNK)
        b_answered.wait(timeout=30)  # A keeps its request open until B has its answer
        yield b"a" * CHUNK

    def send_a() -> None:
        answers["a"] = requests.patch(
            url, data=a_body(), headers=patch_headers, timeout=60
        ).status_code

    first = threading.Thread(target=send_a)
    first.start()
    # Bytes of A in the file mean A's request holds the upload's lock and is writing.
    wait_until(lambda: part.stat().st_size >= 2 * CHUNK, 30, "A's first bytes on disk")
    answers["b"] = requests.patch(
        url, data=b"b" * CHUNK, headers=patch_headers, timeout=60
    ).status_code
    b_answered.set()
    first.join(timeout=60)

    assert answers == {"a": 204, "b": 423}
    head = requests.head(url, headers=headers, timeout=10)
    assert head.headers["Upload-Offset"] == str(3 * CHUNK)
    assert part.read_bytes() == b"a" * 3 * CHUNK
    # With A done, the offset is 3 chunks: B's retry at its stale offset is refused, not mixed in.
    assert (
        requests.patch(url, data=b"b" * CHUNK, headers=patch_headers, timeout=60).status_code == 409
    )


GIB = 1024**3


@pytest.fixture
def quota_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    live = start_server(
        tmp_path / "live",
        demo=True,
        worker=False,
        LOUPE_DATABASE_URL=database_url,
        LOUPE_USER_QUOTA_BYTES=str(200 * GIB),
    )
    yield live
    stop_server(live)


def test_simultaneous_creations_never_overrun_the_quota(quota_server: LiveServer) -> None:
    token = token_for(quota_server, "ana.lopez@riverbend.example")
    headers = {
        "Authorization": f"Bearer {token}",
        "Tus-Resumable": "1.0.0",
        "Upload-Length": str(19 * GIB),
    }
    start = threading.Barrier(14)
    answers: list[requests.Response] = []

    def create() -> None:
        start.wait(timeout=30)
        answer = requests.post(f"{quota_server.url}/api/uploads/", headers=headers, timeout=60)
        answers.append(answer)

    threads = [threading.Thread(target=create) for _ in range(14)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    accepted = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert len(answers) == 14
    assert len(accepted) * 19 * GIB <= 200 * GIB
    assert len(accepted) == 10  # the demo teacher's lessons take a few megabytes
    for answer in refused:
        assert answer.status_code == 413, answer.text
        assert "storage quota" in answer.json()["error"]
