"""tuspy, an independent tus client, against a real Loupe server process."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
import requests
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError
from tusclient.uploader import Uploader

from tests.conftest import LiveServer, resize_tmpfs, tmpfs
from tests.lessons.conftest import token_for

TEACHER = "ana.lopez@riverbend.example"


def random_file(folder: Path, size: int) -> Path:
    path = folder / "lesson.mov"
    path.write_bytes(os.urandom(size))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def tus(live_server: LiveServer) -> tus_client.TusClient:
    token = token_for(live_server, TEACHER)
    return tus_client.TusClient(
        f"{live_server.url}/api/uploads/", headers={"Authorization": f"Bearer {token}"}
    )


def status(live_server: LiveServer, tus: tus_client.TusClient, url: str) -> Any:
    return requests.get(url, headers=tus.headers, timeout=10).json()


def stored_source(live_server: LiveServer, video_id: int) -> Path:
    folder = live_server.data_dir / "media" / "videos" / str(video_id)
    (source,) = folder.glob("source*")
    return source


def test_whole_file_with_checksums(
    live_server: LiveServer, tus: tus_client.TusClient, tmp_path: Path
) -> None:
    path = random_file(tmp_path, 3 * 1024 * 1024 + 17)
    uploader = tus.uploader(
        str(path),
        chunk_size=1024 * 1024,
        upload_checksum=True,
        metadata={"filename": "lesson.mov", "title": "Whole"},
    )
    uploader.upload()
    video_id = status(live_server, tus, uploader.url)["video_id"]
    assert video_id is not None
    assert sha256(stored_source(live_server, video_id)) == sha256(path)


def test_resume_after_an_interruption(
    live_server: LiveServer, tus: tus_client.TusClient, tmp_path: Path
) -> None:
    path = random_file(tmp_path, 4 * 1024 * 1024)
    first = tus.uploader(str(path), chunk_size=1024 * 1024, metadata={"filename": "lesson.mov"})
    first.upload(stop_at=2 * 1024 * 1024)  # the laptop lid closes
    assert status(live_server, tus, first.url)["offset"] == 2 * 1024 * 1024
    # A new client process picks the upload up from its URL: it asks the server where to go on.
    second = tus.uploader(str(path), url=first.url, chunk_size=1024 * 1024)
    assert second.offset == 2 * 1024 * 1024
    second.upload()
    video_id = status(live_server, tus, first.url)["video_id"]
    assert sha256(stored_source(live_server, video_id)) == sha256(path)


class CorruptingUploader(Uploader):
    """A client whose checksums are wrong (a flipped bit on the way, say)."""

    CHECKSUM_ALGORITHM_PAIR = ("sha1", lambda chunk: hashlib.sha1(chunk + b"flipped"))


def test_a_bad_checksum_is_refused_and_the_offset_stays(
    live_server: LiveServer, tus: tus_client.TusClient, tmp_path: Path
) -> None:
    path = random_file(tmp_path, 2 * 1024 * 1024)
    good = tus.uploader(str(path), chunk_size=1024 * 1024, upload_checksum=True)
    good.upload(stop_at=1024 * 1024)
    bad = CorruptingUploader(
        str(path), client=tus, url=good.url, chunk_size=1024 * 1024, upload_checksum=True, retries=0
    )
    with pytest.raises(TusCommunicationError) as refused:
        bad.upload_chunk()
    assert refused.value.status_code == 460
    assert status(live_server, tus, good.url)["offset"] == 1024 * 1024


def test_termination(live_server: LiveServer, tus: tus_client.TusClient, tmp_path: Path) -> None:
    path = random_file(tmp_path, 2 * 1024 * 1024)
    uploader = tus.uploader(str(path), chunk_size=1024 * 1024)
    uploader.upload(stop_at=1024 * 1024)
    headers = {**tus.headers, "Tus-Resumable": "1.0.0"}
    assert requests.delete(uploader.url, headers=headers, timeout=10).status_code == 204
    assert requests.head(uploader.url, headers=headers, timeout=10).status_code == 404
    assert not list((live_server.data_dir / "uploads").glob("*.part"))


def test_a_full_disk_answers_507_and_the_upload_resumes_once_space_is_back(
    live_server: LiveServer, tus: tus_client.TusClient, tmp_path: Path
) -> None:
    chunk = 768 * 1024
    path = random_file(tmp_path, 4 * chunk)
    with tmpfs(live_server.data_dir / "uploads", "2m") as folder:
        uploader = tus.uploader(
            str(path), chunk_size=chunk, retries=0, metadata={"filename": "lesson.mov"}
        )
        with pytest.raises(TusCommunicationError) as refused:
            uploader.upload()
        assert refused.value.status_code == 507
        assert "out of storage space" in str(refused.value.response_content)
        # Two chunks fit: their offset stays promised, and the failed chunk leaves no bytes.
        assert status(live_server, tus, uploader.url)["offset"] == 2 * chunk
        (part,) = folder.glob("*.part")
        assert part.read_bytes() == path.read_bytes()[: 2 * chunk]

        resize_tmpfs(folder, "16m")  # the administrator frees space
        again = tus.uploader(str(path), url=uploader.url, chunk_size=chunk)
        assert again.offset == 2 * chunk
        again.upload()
        video_id = status(live_server, tus, uploader.url)["video_id"]
        assert sha256(stored_source(live_server, video_id)) == sha256(path)
