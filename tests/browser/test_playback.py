"""A lesson goes from processing to playing through hls.js in Chromium, without a reload."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from app.accounts import service as accounts
from app.lessons import processing
from tests.browser.conftest import ANA, screenshot, sign_in
from tests.conftest import LiveServer, ffmpeg_available, need


def test_processing_turns_into_hls_playback(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    need(ffmpeg_available(), "ffmpeg is not installed (apt-get install ffmpeg)")
    from media_pipeline.synth import make_clip

    source = tmp_path / "lesson.mp4"
    make_clip(source, duration=8, width=1280, height=720, fps=30)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, live_server, ANA)
    with live_server.app().app_context():
        owner = accounts.find_user_by_email(ANA)
        assert owner is not None
        video_id = processing.ingest(
            owner, source, title="Place value warm-up", original_name="IMG_0042.MP4"
        ).id

    page.goto(f"{live_server.url}/videos/{video_id}")
    shell = page.locator(".player-shell")
    # The page turns playable by itself (Socket.IO), then hls.js plays the adaptive stream.
    expect(shell).to_have_attribute("data-playable", "loaded", timeout=120_000)
    expect(page.locator(".page-head [data-role=status]")).to_have_text("Ready", timeout=120_000)
    assert page.evaluate("() => window.loupePlayer.hls !== null"), "hls.js should drive the player"
    page.evaluate("() => { const v = window.loupePlayer.video; v.muted = true; return v.play(); }")
    page.wait_for_function("() => window.loupePlayer.video.currentTime > 1.5", timeout=30_000)
    # Played from the early preview, the page switched to the full ladder when it landed.
    page.wait_for_function("() => window.loupePlayer.hls.levels.length === 2", timeout=30_000)
    levels = page.evaluate("() => window.loupePlayer.hls.levels.map(l => l.height)")
    assert sorted(levels) == [360, 720]
    screenshot(page, "player")
    context.close()
