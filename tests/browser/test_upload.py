"""A teacher uploads (resuming after a reload) and records lessons through /upload in Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect

from app.accounts import service as accounts
from app.lessons.models import Video
from tests.browser.conftest import ANA, screenshot, sign_in
from tests.conftest import LiveServer, ffmpeg_available, need

CHUNK = 5 * 1024 * 1024  # static/js/pages/upload.js CHUNK_SIZE
PROCESSED = 240_000  # ms: upload plus the pipeline on a small CI machine


def watch_csp(page: Page) -> list[str]:
    """Collect Content-Security-Policy violations the page reports on its console."""
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            violations.append(text)

    page.on("console", on_console)
    return violations


def tus_log(page: Page) -> list[dict[str, Any]]:
    """Record every request to the tus endpoint: method, path and Upload-Offset."""
    log: list[dict[str, Any]] = []

    def on_request(request: Request) -> None:
        if "/api/uploads/" in request.url:
            log.append(
                {
                    "method": request.method,
                    "url": request.url,
                    "offset": request.header_value("upload-offset"),
                }
            )

    page.on("request", on_request)
    return log


def open_upload_page(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/")
    page.get_by_role("link", name="Upload a lesson").click()
    expect(page.get_by_role("heading", name="Upload a lesson")).to_be_visible()
    expect(page.locator("#dashboard")).to_have_attribute("data-state", "ready")


def video_of(server: LiveServer, video_id: int) -> dict[str, Any]:
    with server.app().app_context():
        from app.core.extensions import db

        video = db.session.get(Video, video_id)
        assert video is not None
        owner = accounts.find_user_by_email(ANA)
        assert owner is not None
        return {
            "title": video.title,
            "subject": video.subject,
            "grade": video.grade,
            "owner_id": video.owner_id,
            "ana_id": owner.id,
        }


def watch_it(page: Page) -> int:
    """Wait for the new lesson to be ready, follow the link and play it; return its id."""
    lesson = page.locator(".lesson-progress").first
    ready = lesson.get_by_role("link", name="Ready — watch it")
    expect(ready).to_be_visible(timeout=PROCESSED)
    video_id = int(lesson.get_attribute("data-video-id") or 0)
    assert video_id > 0
    ready.click()
    page.wait_for_url(f"**/videos/{video_id}")
    expect(page.locator(".player-shell")).to_have_attribute("data-playable", "loaded")
    page.evaluate("() => { const v = window.loupePlayer.video; v.muted = true; return v.play(); }")
    page.wait_for_function("() => window.loupePlayer.video.currentTime > 1", timeout=30_000)
    return video_id


def test_upload_resumes_after_a_reload_and_becomes_a_playable_lesson(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    need(ffmpeg_available(), "ffmpeg is not installed (apt-get install ffmpeg)")
    from media_pipeline.synth import make_clip

    clip = make_clip(tmp_path / "IMG_0042.mp4", duration=20, width=1280, height=720, timecode=False)
    size = clip.stat().st_size
    assert size > 2.5 * CHUNK, f"the clip should take several chunks, it has {size} bytes"

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "leave the page?" while uploading
    violations = watch_csp(page)
    log = tus_log(page)
    sign_in(page, live_server, ANA)
    open_upload_page(page, live_server)
    screenshot(page, "upload-empty")

    page.get_by_label("Title").fill("Fractions on a number line")
    page.get_by_label("Subject").fill("Math")
    page.get_by_label("Grade").select_option("4")
    page.get_by_label("Recorded on").fill("2026-03-14")

    # Slow the uplink so the reload lands mid-way: ~3 MB/s, a chunk takes about two seconds.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": 3 * 1024 * 1024,
        },
    )
    page.locator(".uppy-Dashboard-input").first.set_input_files(clip)
    expect(page.locator(".uppy-Dashboard-Item")).to_have_count(1)
    with page.expect_response(
        lambda r: r.request.method == "PATCH" and "/api/uploads/" in r.url and r.ok,
        timeout=60_000,
    ) as first_chunk:
        page.get_by_role("button", name="Upload 1 lesson").click()
    assert int(first_chunk.value.header_value("upload-offset") or 0) >= CHUNK
    screenshot(page, "upload-in-progress")
    assert [e["method"] for e in log].count("POST") == 1

    # Reload mid-way: the page remembers the unfinished upload and asks the server for its offset.
    page.reload()
    unfinished = page.locator("#resumable .resumable-item")
    expect(unfinished).to_have_count(1)
    expect(unfinished).to_contain_text("IMG_0042.mp4")
    expect(unfinished).to_have_attribute("data-offset", re.compile(r"^[1-9][0-9]*$"))
    server_offset = int(unfinished.get_attribute("data-offset") or 0)
    assert CHUNK <= server_offset < size
    screenshot(page, "upload-unfinished")

    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    log.clear()
    page.locator(".uppy-Dashboard-input").first.set_input_files(clip)
    expect(page.locator("#resumable")).to_be_hidden()
    # The details the server already has come back into the form.
    expect(page.get_by_label("Title")).to_have_value("Fractions on a number line")
    page.get_by_role("button", name="Upload 1 lesson").click()
    expect(page.locator(".lesson-progress")).to_have_count(1, timeout=60_000)

    methods = [e["method"] for e in log]
    assert "POST" not in methods, f"the upload started over: {log}"
    patches = [e for e in log if e["method"] == "PATCH"]
    assert patches, log
    assert int(patches[0]["offset"]) == server_offset, (patches[0], server_offset)

    # The lesson processes live on the same page, then plays.
    lesson = page.locator(".lesson-progress").first
    expect(lesson.locator("h3")).to_have_text("Fractions on a number line")
    expect(lesson).to_have_attribute("data-status", "processing", timeout=PROCESSED)
    screenshot(page, "upload-processing")
    expect(lesson).to_have_attribute("data-status", "ready", timeout=PROCESSED)
    screenshot(page, "upload-ready")
    video_id = watch_it(page)
    screenshot(page, "upload-watch")

    stored = video_of(live_server, video_id)
    assert stored["title"] == "Fractions on a number line"
    assert (stored["subject"], stored["grade"]) == ("Math", "4")
    assert stored["owner_id"] == stored["ana_id"]
    assert violations == []
    context.close()


def test_recording_with_the_camera_becomes_a_lesson(
    browser: Browser, live_server: LiveServer
) -> None:
    need(ffmpeg_available(), "ffmpeg is not installed (apt-get install ffmpeg)")
    # Tablet width: the layout stacks.
    context = browser.new_context(viewport={"width": 834, "height": 1112})
    context.grant_permissions(["camera", "microphone"])
    page = context.new_page()
    violations = watch_csp(page)
    sign_in(page, live_server, ANA)
    open_upload_page(page, live_server)
    page.get_by_label("Title").fill("Morning circle")

    page.locator(".uppy-DashboardTab-btn", has_text="Record").click()
    start = page.get_by_role("button", name="Start recording")
    expect(start).to_be_enabled(timeout=20_000)
    start.click()
    page.wait_for_timeout(3_000)  # record about three seconds of the fake camera
    screenshot(page, "record-recording")
    page.get_by_role("button", name="Stop recording").click()
    expect(page.locator(".uppy-Webcam-video")).to_be_visible()  # preview before upload
    screenshot(page, "record-preview")
    page.get_by_role("button", name="Use this recording").click()
    item = page.locator(".uppy-Dashboard-Item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(".webm")
    page.get_by_role("button", name="Upload 1 lesson").click()

    lesson = page.locator(".lesson-progress").first
    expect(lesson.locator("h3")).to_have_text("Morning circle", timeout=60_000)
    expect(lesson).to_have_attribute("data-status", "ready", timeout=PROCESSED)
    screenshot(page, "record-ready")
    video_id = watch_it(page)
    assert video_of(live_server, video_id)["title"] == "Morning circle"
    assert violations == []
    context.close()


def test_refusals_are_explained_in_the_page(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    violations = watch_csp(page)
    sign_in(page, live_server, ANA)
    open_upload_page(page, live_server)
    alert = page.locator('[data-role="upload-error"]')  # the page's own alert, not Uppy's

    # Not a video: refused before anything is sent.
    notes = tmp_path / "lesson-notes.txt"
    notes.write_text("not a video")
    page.locator(".uppy-Dashboard-input").first.set_input_files(notes)
    expect(alert).to_contain_text("Only video files can become lessons")
    page.get_by_role("button", name="Dismiss").click()
    expect(alert).to_be_hidden()

    # A recording date in the future is caught at the field.
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(b"\x00" * 2048)
    page.locator(".uppy-Dashboard-input").first.set_input_files(fake)
    page.get_by_label("Recorded on").fill("2999-01-01")
    page.get_by_role("button", name="Upload 1 lesson").click()
    expect(page.get_by_text("The recording date cannot be in the future.")).to_be_visible()
    expect(page.get_by_label("Recorded on")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Recorded on").fill("")

    # Signed out in another tab: the server's 401 becomes a sentence, not a console error.
    # (The sign-out is posted through the context's own request client, which shares the
    # tab's cookies: a second page's close() once hung a CI run for good.)
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    signed_out = context.request.post(
        f"{live_server.url}/logout", form={"csrf_token": csrf or ""}, max_redirects=0
    )
    assert signed_out.status == 302
    page.get_by_role("button", name="Upload 1 lesson").click()
    expect(alert).to_contain_text("you are signed out", timeout=30_000)
    screenshot(page, "upload-refused")
    assert violations == []
    context.close()
