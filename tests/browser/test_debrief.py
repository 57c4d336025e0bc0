"""The printable debrief of a real processed lesson: storyboard thumbnails, print, PDF."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from app.accounts import service as accounts
from app.core.extensions import db
from app.feedback import replies
from app.feedback import service as feedback
from app.feedback.schemas import AnnotationIn, ReplyIn
from app.frameworks import service as frameworks
from app.lessons import processing
from app.lessons import service as videos
from app.lessons.models import Video, VideoStatus
from tests.browser.conftest import ANA, ARTIFACTS, MAYA, screenshot, sign_in
from tests.conftest import LiveServer, ffmpeg_available, need, wait_until


def arrange(server: LiveServer, source: Path) -> int:
    """Upload a lesson for Ana, share it with Maya, and give it a coach's feedback."""
    with server.app().app_context():
        ana, maya = accounts.find_user_by_email(ANA), accounts.find_user_by_email(MAYA)
        assert ana is not None
        assert maya is not None
        video_id = processing.ingest(
            ana, source, title="Fractions on a number line", subject="Math", grade="4"
        ).id

        def ready() -> bool:
            db.session.expire_all()
            video = db.session.get(Video, video_id)
            assert video is not None
            assert video.status != VideoStatus.FAILED, video.failure_reason
            return video.status == VideoStatus.READY

        wait_until(ready, 300, "the lesson to be processed")
        videos.share_video(ana, video_id, MAYA, "comment")
        five = next(f for f in frameworks.list_frameworks(maya) if f.builtin == "loupe-five")
        culture, content, engagement = five.dimensions[0], five.dimensions[1], five.dimensions[2]

        def note(user_email: str, **data: object) -> int:
            user = accounts.find_user_by_email(user_email)
            assert user is not None
            made = feedback.create_annotation(user, video_id, AnnotationIn.model_validate(data))
            return made.id

        hook = note(
            MAYA,
            start_ms=2_000,
            end_ms=9_500,
            kind="strength",
            body="**Strong hook.** You asked *“Is ¾ closer to 0 or to 1?”* and every hand went up."
            "\nStudents were leaning in before the first minute was over.",
            dimension_id=content.id,
            level_id=content.levels[2].id,
        )
        replies.add_reply(ana, hook, ReplyIn(body="Thank you! I borrowed it from Ben."))
        note(
            MAYA,
            start_ms=13_000,
            kind="suggestion",
            body="Try a turn-and-talk here before calling on anyone:\n"
            "- 30 seconds with a partner\n- then two volunteers share",
            dimension_id=engagement.id,
            level_id=engagement.levels[1].id,
        )
        note(
            MAYA,
            start_ms=21_000,
            end_ms=27_000,
            kind="strength",
            body="Clear routine for getting the number lines out: no time lost.",
            dimension_id=culture.id,
            level_id=culture.levels[3].id,
        )
        note(
            MAYA,
            start_ms=31_000,
            kind="question",
            body="What did you notice about the group at the back table?",
            dimension_id=engagement.id,
            level_id=engagement.levels[2].id,
        )
        note(
            MAYA,
            start_ms=35_500,
            visibility="private",
            body="For our debrief: ask about the pacing plan for tomorrow.",
        )
        return video_id


def test_debrief_prints_with_storyboard_thumbnails(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    need(ffmpeg_available(), "ffmpeg is not installed (apt-get install ffmpeg)")
    from media_pipeline.synth import make_clip

    source = tmp_path / "lesson.mp4"
    make_clip(source, duration=40, width=854, height=480, fps=24)
    video_id = arrange(live_server, source)

    context = browser.new_context(viewport={"width": 1100, "height": 900}, device_scale_factor=2)
    page = context.new_page()
    sign_in(page, live_server, MAYA)
    page.goto(f"{live_server.url}/videos/{video_id}/debrief")
    expect(page.locator("h1")).to_have_text("Fractions on a number line")
    page.wait_for_selector("body[data-thumbnails=ready]", timeout=20_000)
    thumbs = page.locator(".moment-thumb")
    expect(thumbs).to_have_count(5)
    states = thumbs.evaluate_all("els => els.map(e => e.dataset.state)")
    assert states == ["ready"] * 5
    # Each crop shows its own tile: the sprite positions differ from moment to moment.
    positions = thumbs.evaluate_all("els => els.map(e => getComputedStyle(e).backgroundPosition)")
    assert len(set(positions)) == 5, positions
    expect(page.get_by_text("Private note · only you see it")).to_have_count(1)
    groups = page.locator(".group-head h2")
    expect(groups).to_have_text(
        ["Lesson content", "Student engagement", "Classroom culture", "Other feedback"]
    )
    screenshot(page, "debrief")
    thumbs.nth(3).screenshot(path=str(ARTIFACTS / "debrief-thumbnail-0-00-21.png"))

    # The button prints once the thumbnails are in (the browser's print dialog is recorded).
    page.evaluate("() => { window.print = () => { window.printed = true; }; }")
    page.get_by_role("button", name="Print / Save as PDF").click()
    page.wait_for_function("() => window.printed === true", timeout=5_000)

    # Paper: the print stylesheet on an A4-wide page, and a real PDF.
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator(".debrief-toolbar")).to_be_hidden()
    screenshot(page, "debrief-print")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(ARTIFACTS / "debrief.pdf"), format="A4")
    assert pdf.startswith(b"%PDF")
    context.close()
