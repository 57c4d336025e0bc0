"""Transfers cut at random points and resumed in any order never lose or corrupt a byte."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable

from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from app.accounts.models import User
from app.core.storage import storage
from app.lessons import uploads
from tests.conftest import login
from tests.lessons.conftest import OCTETS, Tus


def test_random_cuts_and_resumes_keep_every_byte(
    app: Flask, make_user: Callable[..., User]
) -> None:
    client = app.test_client()
    tus = Tus(client, login(client, make_user("teacher")))

    class Transfer(RuleBasedStateMachine):
        """One upload, driven by a flaky network and a client that sometimes gets it wrong."""

        @initialize(data=st.binary(min_size=1, max_size=64 * 1024))
        def start(self, data: bytes) -> None:
            self.source = data
            self.url = tus.create(len(data)).headers["Location"]
            self.video_id: int | None = None

        def server_offset(self) -> int:
            return int(tus.head(self.url).headers["Upload-Offset"])

        def done(self) -> bool:
            return self.video_id is not None

        @precondition(lambda self: not self.done())
        @rule(size=st.integers(min_value=1, max_value=20_000), checksum=st.booleans())
        def send(self, size: int, checksum: bool) -> None:
            at = self.server_offset()
            chunk = self.source[at : at + size]
            extra = {}
            if checksum:
                extra["Upload-Checksum"] = (
                    "sha1 " + base64.b64encode(hashlib.sha1(chunk).digest()).decode()
                )
            response = tus.patch(self.url, at, chunk, **extra)
            assert response.status_code == 204
            assert int(response.headers["Upload-Offset"]) == at + len(chunk)
            if "Loupe-Video-Id" in response.headers:
                self.video_id = int(response.headers["Loupe-Video-Id"])

        @precondition(lambda self: not self.done())
        @rule(
            size=st.integers(min_value=2, max_value=20_000),
            cut=st.floats(min_value=0, max_value=0.99),
        )
        def send_and_lose_the_connection(self, size: int, cut: float) -> None:
            at = self.server_offset()
            chunk = self.source[at : at + size]
            arrived = chunk[: int(len(chunk) * cut)]
            tus.client.patch(
                self.url,
                input_stream=io.BytesIO(arrived),
                headers={
                    **tus.headers,
                    "Upload-Offset": str(at),
                    "Content-Length": str(len(chunk)),
                },
                content_type=OCTETS,
            )
            assert self.server_offset() == at + len(arrived)

        @precondition(lambda self: not self.done())
        @rule(size=st.integers(min_value=1, max_value=20_000))
        def send_a_corrupt_chunk(self, size: int) -> None:
            at = self.server_offset()
            chunk = self.source[at : at + size]
            wrong = "sha1 " + base64.b64encode(hashlib.sha1(chunk + b"!").digest()).decode()
            assert tus.patch(self.url, at, chunk, **{"Upload-Checksum": wrong}).status_code == 460
            assert self.server_offset() == at

        @precondition(lambda self: not self.done())
        @rule(delta=st.integers(min_value=1, max_value=1000), ahead=st.booleans())
        def send_at_a_stale_offset(self, delta: int, ahead: bool) -> None:
            at = self.server_offset()
            wrong = at + delta if ahead else at - delta
            if wrong < 0:
                return
            assert tus.patch(self.url, wrong, b"zz").status_code == 409
            assert self.server_offset() == at

        @rule()
        def look_at_it(self) -> None:
            status = tus.client.get(self.url).get_json()
            assert status["length"] == len(self.source)
            assert (status["video_id"] is not None) == self.done()

        @invariant()
        def what_the_server_has_is_a_prefix_of_the_source(self) -> None:
            if self.done():
                return
            upload_id = self.url.rsplit("/", 1)[1]
            stored = uploads.upload_path(upload_id).read_bytes()
            assert self.source.startswith(stored[: self.server_offset()])

        def teardown(self) -> None:
            if not hasattr(self, "source"):
                return
            while not self.done():
                self.send(20_000, checksum=False)
            path = storage().source_path(self.video_id or 0)
            assert path is not None
            assert (
                hashlib.sha256(path.read_bytes()).hexdigest()
                == hashlib.sha256(self.source).hexdigest()
            )

    run_state_machine_as_test(
        Transfer,
        settings=settings(
            max_examples=40,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
