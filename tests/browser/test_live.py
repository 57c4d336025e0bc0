"""Live lessons in two browsers: a teacher goes live with the fake camera (WHIP), her coach
finds the lesson on his home, watches it (WHEP) and comments at the lesson's moment; the teacher
sees who is watching, survives a dropped connection (same lesson), ends it; the recording is
processed and the comment sits at the moment it was written. A coach from outside her caseload
may not watch."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from app.demo import DEMO_PASSWORD
from tests.browser.conftest import ANA, MAYA, TABLET, WIDE, Problems, screenshot, sign_in
from tests.conftest import LiveServer, ffmpeg_available, need, start_server, stop_server, wait_until

DAVID = "david.okafor@riverbend.example"  # a coach, but not Ana's
COMMENT = "Clear hook: every student has a number line out."
REPORT: dict[str, Any] = {}  # figures measured in the browsers, printed at the end (-s)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server (web, Socket.IO, worker, rtc gateway) with the demo district."""
    need(ffmpeg_available(), "ffmpeg is not installed (apt-get install ffmpeg)")
    live = start_server(
        tmp_path_factory.mktemp("live-pages") / "live", demo=True, LOUPE_LIVE_GRACE_SECONDS="60"
    )
    yield live
    stop_server(live)


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    if REPORT:
        print("\n--- live lesson figures ---")
        for key, value in REPORT.items():
            print(f"{key}: {value}")


def person(
    browser: Browser, server: LiveServer, email: str, problems: Problems
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=WIDE)  # type: ignore[arg-type]
    page = problems.watch(context.new_page())
    sign_in(page, server, email)
    return context, page


# getStats() is asynchronous and wait_for_function does not await a predicate's promise: a probe
# in the page copies inbound-rtp video framesDecoded into a plain number every 200 ms.
FRAMES_PROBE = """() => {
  if (window.framesProbe) return;
  window.framesProbe = { framesDecoded: 0 };
  setInterval(async () => {
    window.framesProbe.framesDecoded = await window.loupeLive.framesDecoded().catch(() => 0);
  }, 200);
}"""


def frames(page: Page) -> int:
    return int(page.evaluate("() => window.framesProbe.framesDecoded"))


def wait_for_frames_after(page: Page, seen: int) -> None:
    page.evaluate(FRAMES_PROBE)
    page.wait_for_function(
        "(seen) => window.framesProbe.framesDecoded > seen", arg=seen, timeout=30_000
    )


def lesson_ms_now(started_at: datetime) -> float:
    """The lesson time by this machine's clock, which is the server's: an independent measure."""
    return (datetime.now(UTC) - started_at).total_seconds() * 1000


def test_a_live_lesson_is_watched_annotated_and_recorded(
    browser: Browser, server: LiveServer, problems: Problems
) -> None:
    teacher, tpage = person(browser, server, ANA, problems)
    coach, cpage = person(browser, server, MAYA, problems)
    maya = server.session(MAYA, DEMO_PASSWORD)

    # The coach waits on his home: nothing is live.
    expect(cpage.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(cpage.locator('[data-role="live-now"]')).to_be_hidden()

    # The teacher goes live from her home, with the fake camera at standard quality.
    screenshot(tpage, "live-teacher-home")
    tpage.locator(".go-live-strip").get_by_role("link", name="Go live").click()
    expect(tpage.get_by_role("heading", name="Go live")).to_be_visible()
    expect(
        tpage.get_by_role("navigation", name="Main").get_by_role("link", name="Go live")
    ).to_have_attribute("aria-current", "page")
    go = tpage.get_by_role("button", name="Go live")
    expect(go).to_be_enabled()  # the camera and microphone are open
    tpage.get_by_label("Title").fill("Live fractions")
    tpage.get_by_label("Subject").fill("Math")
    tpage.get_by_label("Grade").select_option("4")
    tpage.get_by_label("Video quality").select_option("sd")
    screenshot(tpage, "live-go-setup")
    go.click()
    root = tpage.locator('[data-role="live-go"]')
    expect(root).to_have_attribute("data-state", "live", timeout=30_000)
    expect(tpage.locator('[data-role="live-pill"]')).to_be_visible()
    expect(tpage.locator('[data-role="conn-text"]')).to_have_text("Connected", timeout=30_000)
    lesson = tpage.evaluate("() => window.loupeLive.lesson")
    video_id, stream_id = lesson["videoId"], lesson["streamId"]
    expect(tpage.get_by_role("heading", name="Live fractions", exact=True).first).to_be_visible()
    expect(tpage.locator('[data-role="nobody"]')).to_be_visible()

    # Another coach may not watch, nor see it listed.
    outsider = browser.new_context(viewport=WIDE)  # type: ignore[arg-type]
    opage = outsider.new_page()
    sign_in(opage, server, DAVID)
    response = opage.goto(f"{server.url}/live/{stream_id}")
    assert response is not None
    assert response.status == 404
    assert (
        server.session(DAVID, DEMO_PASSWORD).get(f"{server.url}/api/live", timeout=10).json() == []
    )
    outsider.close()

    # The coach's home shows the lesson live, without a reload (live.started).
    item = cpage.locator(".live-item", has_text="Live fractions")
    expect(item).to_be_visible()
    expect(item).to_contain_text("Ana López")
    screenshot(cpage, "live-now-coach-home")
    clicked = time.monotonic()
    item.get_by_role("link", name=re.compile("^Watch Live fractions")).click()
    cpage.wait_for_url(f"**/live/{stream_id}")
    cpage.evaluate(FRAMES_PROBE)
    cpage.wait_for_function("() => window.framesProbe.framesDecoded > 0", timeout=30_000)
    REPORT["viewer: click Watch to a decoded frame (wall)"] = (
        f"{(time.monotonic() - clicked) * 1000:.0f} ms"
    )
    cpage.wait_for_function("() => window.loupeLive.metrics.whepToFirstFrameMs !== null")
    metrics = cpage.evaluate("() => window.loupeLive.metrics")
    REPORT["viewer: page open to first frame shown"] = f"{metrics['firstFrameMs']} ms"
    REPORT["viewer: WHEP offer to first frame shown"] = f"{metrics['whepToFirstFrameMs']} ms"
    expect(cpage.locator('[data-role="overlay"]')).to_be_hidden()
    expect(cpage.locator('[data-role="live-word"]')).to_have_text("LIVE")

    # The teacher sees who is watching.
    expect(tpage.locator('[data-role="presence-text"]')).to_have_text("Maya Chen is watching")
    expect(tpage.locator('[data-role="viewer-count"]')).to_have_text("1")
    expect(tpage.locator('[data-role="nobody"]')).to_be_hidden()
    # The coach sees no "watching" line: the teacher is teaching, and nobody else is here.
    expect(cpage.locator('[data-role="presence"]')).to_be_hidden()

    # Let the lesson run three seconds before the coach comments (lesson time, not a sync wait).
    cpage.wait_for_timeout(3000)
    started_at = datetime.fromisoformat(
        maya.get(f"{server.url}/api/live/{stream_id}", timeout=10).json()["started_at"]
    )
    box = cpage.get_by_label("Comment at the current moment of the lesson")
    before = lesson_ms_now(started_at)
    box.click()  # starting to write stamps the comment with the lesson time
    after = lesson_ms_now(started_at)
    box.fill(COMMENT)
    dimensions = cpage.locator('[data-role="dimensions"] .chip')
    expect(dimensions.first).to_be_visible()
    dimension = dimensions.first.inner_text()
    dimensions.first.click()
    cpage.locator('[data-role="levels"] .chip').nth(2).click()
    cpage.get_by_role("radio", name="Strength").check(force=True)
    box.press("Enter")
    row = cpage.locator(".live-note", has_text=COMMENT)
    expect(row).to_be_visible()
    expect(row).to_contain_text(dimension)
    expect(row.locator(".note-kind")).to_have_text("Strength")
    expect(box).to_have_value("")
    notes = maya.get(f"{server.url}/api/videos/{video_id}/annotations", timeout=10).json()
    [note] = notes["annotations"]
    made_at = (before + after) / 2
    error_ms = note["start_ms"] - made_at
    REPORT["comment: start_ms minus the lesson time it was made at"] = (
        f"{error_ms:+.0f} ms (made between {before:.0f} and {after:.0f} ms)"
    )
    assert before - 1000 <= note["start_ms"] <= after + 1000, (note["start_ms"], before, after)
    assert note["tag"]["dimension_name"] == dimension
    assert note["kind"] == "strength"
    expect(tpage.locator('[data-role="feedback-count"]')).to_contain_text("1 comment so far")

    # Pictures while live: the teacher's page and the coach's with the comment.
    screenshot(tpage, "live-go-1280x720")
    screenshot(cpage, "live-watch-1280x720")
    for page, name in ((tpage, "live-go-tablet"), (cpage, "live-watch-tablet")):
        page.set_viewport_size(TABLET)  # type: ignore[arg-type]
        screenshot(page, name)
        page.set_viewport_size(WIDE)  # type: ignore[arg-type]

    # The teacher's connection drops: her page reconnects by itself and the same lesson goes on;
    # the coach's page connects again and decodes new frames.
    seen = frames(cpage)
    tpage.evaluate("() => window.loupeLive.drop()")
    tpage.wait_for_function(
        "() => window.loupeLive.metrics.reconnects === 1 && window.loupeLive.state === 'live'",
        timeout=90_000,
    )
    assert tpage.evaluate("() => window.loupeLive.lesson.videoId") == video_id
    cpage.wait_for_function("() => window.loupeLive.metrics.connects >= 2", timeout=60_000)
    wait_for_frames_after(cpage, 0 if frames(cpage) < seen else seen)
    expect(cpage.locator('[data-role="overlay"]')).to_be_hidden(timeout=30_000)
    expect(tpage.locator('[data-role="presence-text"]')).to_have_text("Maya Chen is watching")

    # Two more seconds of lesson, then the teacher ends it.
    tpage.wait_for_timeout(2000)
    tpage.get_by_role("button", name="End lesson").click()
    tpage.get_by_role("dialog", name="End the lesson?").get_by_role(
        "button", name="End lesson"
    ).click()
    expect(
        tpage.get_by_role("heading", name="Processing — it will appear in your lessons")
    ).to_be_visible(timeout=30_000)
    expect(tpage.get_by_role("link", name="Open the lesson")).to_have_attribute(
        "href", f"/videos/{video_id}"
    )
    expect(cpage.locator('[data-role="overlay-title"]')).to_have_text(
        "The lesson ended; it is being processed"
    )
    expect(cpage.get_by_role("link", name="Open the lesson page")).to_have_attribute(
        "href", f"/videos/{video_id}"
    )
    expect(cpage.get_by_text("The lesson ended. Add more feedback on")).to_be_visible()
    expect(cpage.get_by_label("Comment at the current moment of the lesson")).to_be_disabled()
    expect(tpage.locator('[data-role="overlay-title"]')).to_have_text("Lesson ended")
    ended = maya.get(f"{server.url}/api/live/{stream_id}", timeout=10).json()
    assert ended["status"] == "ended"
    screenshot(cpage, "live-watch-ended")

    def ready() -> dict[str, Any] | None:
        body: dict[str, Any] = maya.get(f"{server.url}/api/videos/{video_id}", timeout=10).json()
        assert body["status"] != "failed", body
        return body if body["status"] == "ready" else None

    made = wait_until(ready, 300, "the live lesson to be processed")
    expect(tpage.get_by_role("heading", name="Ready — your lesson is waiting")).to_be_visible()
    screenshot(tpage, "live-go-ended")
    REPORT["recording length vs the lesson clock at the end"] = (
        f"{made['duration_s']:.2f} s vs {ended['lesson_ms'] / 1000:.2f} s"
    )
    assert made["title"] == "Live fractions"
    assert abs(made["duration_s"] * 1000 - ended["lesson_ms"]) < 1000
    notes = maya.get(f"{server.url}/api/videos/{video_id}/annotations", timeout=10).json()
    assert [a["start_ms"] for a in notes["annotations"]] == [note["start_ms"]]
    assert note["start_ms"] < made["duration_s"] * 1000

    # The coach's home no longer lists it; the player is where the lesson lives now.
    cpage.get_by_role("link", name="Open the lesson page").click()
    expect(cpage.locator('[data-role="list"]')).to_contain_text(COMMENT)
    cpage.goto(f"{server.url}/")
    expect(cpage.locator('[data-role="live-now"]')).to_be_hidden()
    teacher.close()
    coach.close()


def test_go_live_is_only_for_people_who_own_lessons(server: LiveServer) -> None:
    admin = requests.Session()
    response = admin.post(
        f"{server.url}/api/auth/login",
        json={"email": "admin@riverbend.example", "password": DEMO_PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200
    assert admin.get(f"{server.url}/live/new", timeout=10).status_code == 404
    assert admin.get(f"{server.url}/live/999", timeout=10).status_code == 404
