"""Two Loupes on one machine: the web app knows its own rtc gateway by a signed health check,
so `loupe serve` stops when another holds the gateway's port, and no offer goes to a stranger."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.accounts import tokens as api_tokens
from app.accounts.models import User
from app.core.extensions import db
from app.lessons.models import Video
from app.live.models import LiveStream
from tests.conftest import free_port, instance_env, make_app, wait_until, wait_until_up

Foreign = Callable[[Path], int]
OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"


def session_members(session_id: int) -> list[int]:
    """Return the pids of the processes in a session (what `loupe serve` started lives there)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == session_id:
                    found.append(int(entry))
            except OSError:
                continue  # gone meanwhile, or not ours to look at
    return found


@pytest.fixture
def foreign_gateway() -> Iterator[Foreign]:
    """Start another Loupe's gateway (its own secret and data) and return its port."""
    started: list[subprocess.Popen[bytes]] = []

    def start(data_dir: Path) -> int:
        port = free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        log = data_dir / "gateway.log"
        env = instance_env(data_dir, LOUPE_RTC_PORT=str(port))
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "rtc-gateway"],
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        wait_until_up(f"http://127.0.0.1:{port}", process, log, path="/v1/health")
        return port

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def plain_listener() -> Iterator[int]:
    """Hold a port with a socket that listens and never answers (some other program)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize("holder", ["another Loupe's gateway", "another program"])
def test_serve_stops_when_another_holds_the_gateway_port(
    holder: str, tmp_path: Path, foreign_gateway: Foreign, plain_listener: int
) -> None:
    port = foreign_gateway(tmp_path / "other") if holder.endswith("gateway") else plain_listener
    data_dir = tmp_path / "mine"
    data_dir.mkdir()
    log = data_dir / "serve.log"
    env = instance_env(data_dir, LOUPE_RTC_PORT=str(port), LOUPE_DEMO_LESSONS="0")
    serve = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(free_port()), "--no-demo"],
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        code = serve.wait(timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail(f"loupe serve runs on with a stranger on port {port}:\n{log.read_text()}")
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
    output = log.read_text()
    assert code != 0, output
    assert f"{holder} holds port {port}" in output, output
    assert "Loupe is running" not in output
    # Every process it started (the gateway, a worker) is gone with it.
    wait_until(lambda: not session_members(serve.pid), 15, "the processes serve started to end")


def test_a_stranger_gateway_gets_no_offer(
    tmp_path: Path, foreign_gateway: Foreign, make_user: Callable[..., User]
) -> None:
    port = foreign_gateway(tmp_path / "other")
    app: Flask = make_app(tmp_path / "mine", LOUPE_RTC_PORT=str(port))
    with app.app_context():
        teacher = make_user("teacher")
        _, token = api_tokens.create_api_token(teacher, "OBS")
    answer = app.test_client().post(
        "/api/live/whip",
        data=OFFER,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"},
    )
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert f"another Loupe's gateway holds port {port}" in answer.get_json()["error"]
    with app.app_context():
        # Nothing half-made is left behind.
        assert db.session.query(LiveStream).count() == 0
        assert db.session.query(Video).count() == 0
