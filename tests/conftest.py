"""Fixtures shared by every test: real databases, factories, a real Loupe server process."""

from __future__ import annotations

import contextvars
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.accounts import service as accounts
from app.accounts.models import Organization, Role, User
from app.core.config import TestConfig
from app.core.extensions import db
from app.lessons import service as videos
from app.lessons.models import Video

IN_CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("LOUPE_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("LOUPE_TEST_REDIS_URL")
CHROMIUM = os.environ.get("LOUPE_TEST_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery"


def need(condition: bool, reason: str) -> None:
    """Skip when a real dependency is missing; in CI the same absence is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """Mount a small tmpfs on folder (a real disk that fills up); skip where mounting is denied."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    need(mounted.returncode == 0, f"cannot mount a tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def resize_tmpfs(folder: Path, size: str) -> None:
    """Give a tmpfs mounted by tmpfs() a new size (space freed, or taken away)."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(folder)], check=True)


def reset_postgres(url: str) -> None:
    """Give a test an empty public schema in the PostgreSQL test database."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def instance_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """Return the LOUPE_* environment of an isolated Loupe instance."""
    env = {
        "LOUPE_DATA_DIR": str(data_dir),
        "LOUPE_SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
    }
    if database_url:
        env["LOUPE_DATABASE_URL"] = database_url
    env.update(extra)
    return env


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'loupe.sqlite'}"
    need(PG_URL is not None, "LOUPE_TEST_DATABASE_URL is not set (no PostgreSQL to test against)")
    assert PG_URL is not None
    reset_postgres(PG_URL)
    return PG_URL


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in a fresh context, as in production.

    Without this, requests reuse the test's app context: one database session and one `g`
    for the whole test, which hides stale-data and cached-login bugs.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(data_dir: Path, database_url: str | None = None, **extra: str) -> Flask:
    """Build an app on an isolated data folder with the schema created."""
    app = create_app(TestConfig(instance_env(data_dir, database_url, **extra)))
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """An app on SQLite in a temporary data folder, inside an app context."""
    application = make_app(tmp_path)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def any_db_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """An app on SQLite and, in a second run, on PostgreSQL."""
    application = make_app(tmp_path, database_url)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def district() -> Callable[..., Organization]:
    """Create districts: district("north")."""

    def create(slug: str | None = None) -> Organization:
        slug = slug or "d-" + uuid.uuid4().hex[:8]
        return accounts.create_organization(slug.title(), slug)

    return create


@pytest.fixture
def make_user(district: Callable[..., Organization]) -> Callable[..., User]:
    """Create people: make_user("coach"), make_user("teacher", org=other)."""
    default: list[Organization] = []

    def create(
        role: str = "teacher", *, org: Organization | None = None, name: str | None = None
    ) -> User:
        if org is None:
            if not default:
                default.append(district("home"))
            org = default[0]
        email = f"{role}-{uuid.uuid4().hex[:8]}@school.example"
        return accounts.create_user(
            actor=None, organization=org, email=email, role=Role(role), password=PASSWORD, name=name
        )

    return create


@pytest.fixture
def make_video() -> Callable[..., Video]:
    """Create lesson videos: make_video(owner, title="Fractions")."""

    def create(owner: User, title: str = "Fractions with fourth grade", **kwargs: Any) -> Video:
        return videos.create_video(owner, title=title, **kwargs)

    return create


def login(client: FlaskClient, user: User, password: str = PASSWORD) -> str:
    """Sign in through the API and return the CSRF token for writes."""
    response = client.post("/api/auth/login", json={"email": user.email, "password": password})
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["csrf_token"]
    return token


# --- a real Loupe process ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def app(self) -> Flask:
        """Return an app on the same database and folders, to arrange data through services."""
        return create_app(TestConfig(self.env))

    def session(self, email: str, password: str) -> requests.Session:
        """Return an HTTP session signed in as the person, with the CSRF header set."""
        http = requests.Session()
        response = http.post(
            f"{self.url}/api/auth/login", json={"email": email, "password": password}, timeout=10
        )
        assert response.status_code == 200, response.text
        http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return http


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60, path: str = "/login"
) -> None:
    """Poll the server until it answers; fail with its log if it exits or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"loupe serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            requests.get(f"{url}{path}", timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):  # a busy machine answers late
            time.sleep(0.1)  # polling for readiness, not synchronising on an outcome
    raise RuntimeError(f"loupe serve did not answer within {timeout}s:\n{log.read_text()}")


def start_server(
    data_dir: Path, *, demo: bool = False, worker: bool = True, **extra: str
) -> LiveServer:
    """Start `loupe serve` as its own process (web, Socket.IO and a worker)."""
    port = free_port()
    env = instance_env(data_dir, **extra)
    env["LOUPE_LOGIN_RATE_LIMIT"] = "1000 per minute"
    env.setdefault("LOUPE_RTC_PORT", str(free_port()))
    env.setdefault("LOUPE_DEMO_LESSONS", "0")
    log = data_dir / "serve.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    args.append("--demo" if demo else "--no-demo")
    args.append("--worker" if worker else "--no-worker")
    process = subprocess.Popen(
        args,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process, log)
    # The recording gateway is a process of its own: wait for it too.
    wait_until_up(f"http://127.0.0.1:{env['LOUPE_RTC_PORT']}", process, log, path="/v1/health")
    return LiveServer(url=url, data_dir=data_dir, env=env, process=process, log=log)


def stop_server(server: LiveServer) -> None:
    """Stop the server and everything it started, as Ctrl-C would."""
    import signal

    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGINT)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real `loupe serve --demo` on SQLite with its worker, on a free port."""
    server = start_server(tmp_path / "live", demo=True)
    yield server
    stop_server(server)


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Return the condition's first truthy value, checking every 0.2 s; fail after timeout.

    For state another process writes without telling us (its database rows, its files).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


class Browser:
    """A signed-in HTTP session plus a real Socket.IO connection with its cookie."""

    def __init__(self, server: LiveServer, email: str, password: str) -> None:
        import queue

        import socketio

        self.url = server.url
        self.http = server.session(email, password)
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", lambda event, data: self.events.put((event, data)))
        self.sio.connect(
            server.url,
            headers={"Cookie": f"loupe_session={self.http.cookies['loupe_session']}"},
            transports=["websocket"],
            wait_timeout=10,
        )

    def expect(self, event: str, timeout: float = 20, **match: Any) -> Any:
        """Return the next event of this name whose data matches, or fail after the timeout."""
        import queue

        deadline = time.monotonic() + timeout
        while True:
            try:
                name, data = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {event} {match} within {timeout}s")
            if name == event and all(data.get(k) == v for k, v in match.items()):
                return data

    def close(self) -> None:
        self.sio.disconnect()


SPEC: dict[str, Any] = {
    "name": "Literacy look-fors",
    "description": "What we look for in reading lessons.",
    "dimensions": [
        {
            "name": "Text complexity",
            "colour": "#0891B2",
            "levels": [
                {"score": 1, "label": "Not yet", "descriptor": "Below grade level."},
                {"score": 2, "label": "Yes", "descriptor": "At grade level."},
            ],
        },
        {"name": "Discussion", "description": "Students talk about the text.", "levels": []},
    ],
}
