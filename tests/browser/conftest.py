"""Playwright driving Debian's Chromium (Playwright cannot download browsers here)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from app.accounts import service as accounts
from app.accounts.models import Role
from app.core.extensions import db
from app.demo import DEMO_PASSWORD, PEOPLE
from app.lessons import processing
from app.lessons import service as videos
from app.lessons.models import Video, VideoStatus
from tests.conftest import (
    CHROMIUM,
    LiveServer,
    need,
    wait_until,
)

ARTIFACTS = Path(os.environ.get("LOUPE_TEST_ARTIFACTS", "test-artifacts"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # One Chromium per test module: the calls, live streams and fake devices of one module
    # leave nothing behind for the next (a shared browser once hung a later module's test).
    need(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


WIDE = {"width": 1280, "height": 720}
TABLET = {"width": 820, "height": 1180}


class Problems:
    """Console errors, uncaught exceptions and CSP refusals of the pages of a test."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page: Page) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            text = message.text
            serious = message.type == "error" or "Content Security Policy" in text
            # A media element fetching a missing caption or a 404 poster is not our bug.
            if serious and "Failed to load resource" not in text:
                self.seen.append(f"console: {text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.seen.append(f"pageerror: {exc}"))
        return page


@pytest.fixture
def problems() -> Iterator[Problems]:
    found = Problems()
    yield found
    assert not found.seen, "\n".join(found.seen)


# The cast: demo people (app/demo.py), by first name.
CAST = {person.name.split()[0]: person.email for person in PEOPLE}
ANA, BEN, MAYA = CAST["Ana"], CAST["Ben"], CAST["Maya"]
ADMIN = next(person.email for person in PEOPLE if person.role == Role.ADMIN)


def sign_in(page: Page, server: LiveServer, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def ready_lesson(
    app: Flask, clip: Path, title: str, shares: tuple[tuple[str, str], ...] = ((MAYA, "comment"),)
) -> int:
    """Ingest a copy of the clip as Ana's lesson, share it, and wait until it is ready."""
    source = clip.with_name(f"{uuid.uuid4().hex}.mp4")
    shutil.copyfile(clip, source)  # ingest moves its source into storage
    with app.app_context():
        owner = accounts.find_user_by_email(ANA)
        assert owner is not None
        video_id = processing.ingest(owner, source, title=title, original_name="lesson.mp4").id
        for email, permission in shares:
            videos.share_video(owner, video_id, email, permission)

    def ready() -> bool:
        with app.app_context():
            video = db.session.get(Video, video_id)
            assert video is not None
            assert video.status != VideoStatus.FAILED, video.failure_reason
            done = video.status == VideoStatus.READY
            db.session.remove()
            return done

    wait_until(ready, 240, "the lesson to be processed")
    return video_id


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test here `browser`, so `-m browser` and `-m "not browser"` select them."""
    for item in items:
        if Path(str(item.path)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)
