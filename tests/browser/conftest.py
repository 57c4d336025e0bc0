"""Playwright driving Debian's Chromium (Playwright cannot download browsers here)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.conftest import CHROMIUM, need

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
