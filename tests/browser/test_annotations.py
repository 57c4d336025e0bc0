"""The review page: timecoded, rubric-tagged feedback on a real lesson, live between browsers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    FloatRect,
    Page,
    expect,
)

from app.accounts import service as accounts
from app.core.extensions import db
from app.demo import DEMO_PASSWORD
from app.lessons.models import Video
from tests.browser.conftest import (
    ANA,
    BEN,
    MAYA,
    TABLET,
    WIDE,
    Problems,
    ready_lesson,
    screenshot,
    sign_in,
)
from tests.conftest import (
    LiveServer,
    ffmpeg_available,
    need,
    start_server,
    stop_server,
)

DURATION = 24  # seconds of lesson in every test clip
DASH = "\u2013"  # the en dash the page puts between a range's times


# --- arranging ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server (web, Socket.IO, worker) with the demo district, for the whole module."""
    live = start_server(tmp_path_factory.mktemp("review") / "live", demo=True)
    yield live
    stop_server(live)


@pytest.fixture(scope="module")
def arrange(server: LiveServer) -> Iterator[Flask]:
    """An app on the server's database, to arrange data through the services."""
    app = server.app()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need(ffmpeg_available(), "ffmpeg is not installed (apt-get install ffmpeg)")
    from media_pipeline.synth import make_clip

    path = tmp_path_factory.mktemp("clip") / "lesson.mp4"
    return make_clip(path, duration=DURATION, width=640, height=360, fps=30)


def open_lesson(
    browser: Browser,
    server: LiveServer,
    email: str,
    video_id: int,
    problems: Problems,
    viewport: dict[str, int] | None = None,
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=viewport or WIDE)  # type: ignore[arg-type]
    page = problems.watch(context.new_page())
    sign_in(page, server, email)
    page.goto(f"{server.url}/videos/{video_id}")
    expect(page.locator('[data-role="list"]')).to_have_attribute("data-rendered", "true")
    expect(page.locator(".timeline")).to_have_attribute("data-ready", "true")
    page.wait_for_function("() => window.loupePlayer.video.readyState >= 1")
    return context, page


def seek(page: Page, seconds: float) -> None:
    """Seek the player and wait until the video is there."""
    page.evaluate(
        """(t) => new Promise((done) => {
             const v = window.loupePlayer.video;
             v.addEventListener('seeked', () => done(), { once: true });
             v.currentTime = t;
           })""",
        seconds,
    )


def api(server: LiveServer, email: str) -> requests.Session:
    return server.session(email, DEMO_PASSWORD)


def framework(http: requests.Session, server: LiveServer, video_id: int) -> dict[str, Any]:
    found = http.get(f"{server.url}/api/videos/{video_id}/framework", timeout=10)
    assert found.status_code == 200, found.text
    result: dict[str, Any] = found.json()
    return result


def dimension(fw: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in fw["dimensions"] if d["name"] == name)
    return found


def post(http: requests.Session, server: LiveServer, video_id: int, **body: Any) -> dict[str, Any]:
    body.setdefault("kind", "note")
    created = http.post(f"{server.url}/api/videos/{video_id}/annotations", json=body, timeout=10)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


def fraction_of_track(page: Page, locator_box: FloatRect, edge: str = "centre") -> float:
    track = page.locator('[data-role="track"]').bounding_box()
    assert track is not None
    x = locator_box["x"] + (locator_box["width"] / 2 if edge == "centre" else 0)
    return (x - track["x"]) / track["width"]


# --- the flows ---------------------------------------------------------------------------------


def test_coach_tags_a_moment_teacher_replies_live(
    browser: Browser, server: LiveServer, arrange: Flask, clip: Path, problems: Problems
) -> None:
    video_id = ready_lesson(arrange, clip, "Fractions on a number line")
    coach, page = open_lesson(browser, server, MAYA, video_id, problems)
    teacher, tpage = open_lesson(browser, server, ANA, video_id, problems)

    # Presence: each sees the other watching.
    expect(page.locator('[data-role="presence-text"]')).to_have_text("Ana López is watching")
    expect(tpage.locator('[data-role="presence-text"]')).to_have_text("Maya Chen is watching")
    # The storyboard and the waveform came from the pipeline's outputs.
    expect(page.locator(".timeline")).to_have_attribute("data-storyboard", "true")
    expect(page.locator(".timeline")).to_have_attribute("data-wave", "true")

    # Seek to 0:12; then C, type, one click on the dimension's level 3, Enter: three
    # interactions besides typing.
    seek(page, 12)
    page.keyboard.press("c")
    body = page.locator("#composer-body")
    expect(body).to_be_focused()
    expect(page.locator('[data-role="composer-time"]')).to_have_text("@ 0:12")
    page.keyboard.type("Every pair was talking during the turn-and-talk: **great** routine.")
    page.get_by_role("group", name="Rubric dimension").get_by_role(
        "button", name="Student engagement, level 3: Proficient"
    ).click()
    # The chosen level is spelled out below the chips.
    expect(
        page.get_by_role("group", name="Level").get_by_role(
            "button", name=re.compile(r"^Level 3: Proficient")
        )
    ).to_have_attribute("aria-pressed", "true")
    expect(body).to_be_focused()
    page.keyboard.press("Enter")

    note = page.locator(".note")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Student engagement")
    expect(note).to_contain_text("3 · Proficient")
    expect(note.locator("strong")).to_have_text("great")  # the server's safe light formatting
    expect(body).to_have_value("")

    # The marker sits at 12 s of the timeline, as a button that says what it is.
    marker = page.locator(".mk")
    expect(marker).to_have_count(1)
    expect(marker).to_have_attribute(
        "aria-label", re.compile(r"^0:12 Student engagement — Proficient: Every pair")
    )
    duration = page.evaluate("() => window.loupeLesson.player.duration()")
    box = marker.bounding_box()
    assert box is not None
    assert fraction_of_track(page, box) == pytest.approx(12 / duration, abs=0.01)

    # The teacher sees it appear without a reload, and replies.
    tnote = tpage.locator(".note")
    expect(tnote).to_have_count(1)
    expect(tnote).to_contain_text("Every pair was talking")
    expect(tpage.locator(".mk")).to_have_count(1)
    tnote.get_by_role("button", name="Reply").click()
    reply = tpage.get_by_role("textbox", name="Reply to Maya Chen")
    expect(reply).to_be_focused()
    reply.type("Thanks! I planned the pairs the night before.")
    reply.press("Enter")
    expect(tnote.locator(".reply")).to_have_count(1)

    # The coach sees the reply live.
    expect(note.locator(".reply")).to_have_count(1)
    expect(note.locator(".reply")).to_contain_text("I planned the pairs")
    expect(note.locator(".reply")).to_contain_text("Ana López")

    # The teacher edits and then deletes her reply; the coach follows both live.
    treply = tnote.locator(".reply")
    treply.hover()
    treply.get_by_role("button", name="Edit").click()
    edit = tpage.get_by_role("textbox", name="Edit your reply")
    edit.fill("Thanks! I planned the pairs the night before, by reading level.")
    edit.press("Enter")
    expect(note.locator(".reply")).to_contain_text("by reading level")
    expect(note.locator(".reply")).to_contain_text("edited")
    treply.hover()
    treply.get_by_role("button", name="Delete").click()
    tpage.get_by_role("dialog", name="Delete this reply?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(note.locator(".reply")).to_have_count(0)

    # The teacher reflects on her own lesson at 0:20; the coach sees it live, in time order.
    seek(tpage, 20)
    tpage.keyboard.press("Enter")
    expect(tpage.locator("#composer-body")).to_have_attribute(
        "placeholder", "Reflect on this moment…"
    )
    tpage.keyboard.type("I rushed the closing here.")
    tpage.keyboard.press("Enter")
    expect(note).to_have_count(2)
    expect(note.last).to_contain_text("I rushed the closing here.")
    expect(note.last).to_contain_text("Ana López")

    # Clicking the comment plays from its time.
    seek(page, 3)
    note.first.locator(".note-body").click()
    page.wait_for_function("() => Math.abs(window.loupePlayer.video.currentTime - 12) < 0.25")
    expect(note.first).to_have_class(re.compile("is-current"))

    # The teacher leaves: the coach's presence list empties.
    teacher.close()
    expect(page.locator('[data-role="presence"]')).to_be_hidden()
    coach.close()


def test_drag_on_the_timeline_comments_on_a_range(
    browser: Browser, server: LiveServer, arrange: Flask, clip: Path, problems: Problems
) -> None:
    video_id = ready_lesson(arrange, clip, "Small-group reading")
    context, page = open_lesson(browser, server, MAYA, video_id, problems)
    track = page.locator('[data-role="track"]').bounding_box()
    assert track is not None
    y = track["y"] + track["height"] / 2
    x0 = track["x"] + track["width"] * 0.25
    x1 = track["x"] + track["width"] * 0.5

    # Hovering shows the storyboard frame and the time.
    page.mouse.move(x0, y)
    tip = page.locator('[data-role="tip"]')
    expect(tip).to_be_visible()
    # (A quarter of the lesson: 0:06, or 0:05 if the stream runs a few ms short of 24 s.)
    expect(page.locator('[data-role="tip-time"]')).to_have_text(re.compile(r"^0:0[56]$"))
    thumb = page.locator('[data-role="tip-thumb"]')
    assert "sprite-0001.jpg" in thumb.evaluate("el => el.style.backgroundImage")

    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, y, steps=4)
    page.mouse.move(x1, y, steps=4)
    page.mouse.up()
    body = page.locator("#composer-body")
    expect(body).to_be_focused()
    expect(page.locator('[data-role="composer-time"]')).to_have_text(
        re.compile(f"^@ 0:0[56]{DASH}0:1[12]$")
    )
    page.keyboard.type("Watch how the group settles after the transition.")
    page.keyboard.press("Control+Enter")

    bar = page.locator(".mk-range")
    expect(bar).to_have_count(1)
    box = bar.bounding_box()
    assert box is not None
    assert fraction_of_track(page, box, edge="left") == pytest.approx(0.25, abs=0.01)
    assert box["width"] / track["width"] == pytest.approx(0.25, abs=0.01)
    saved = page.evaluate("() => [...window.loupeLesson.feed.store.values()][0]")
    duration = page.evaluate("() => window.loupeLesson.player.duration()")
    assert saved["start_ms"] == pytest.approx(duration * 250, abs=duration * 10)
    assert saved["end_ms"] == pytest.approx(duration * 500, abs=duration * 10)
    expect(page.locator(".note .note-time")).to_have_text(re.compile(f"0:0[56]{DASH}0:1[12]"))

    # The keyboard does the same: I and O mark a range, C comments on it; ? lists the keys.
    seek(page, 15)
    page.locator('[data-role="player-stage"]').focus()
    page.keyboard.press("i")
    seek(page, 18.5)
    page.keyboard.press("o")
    expect(page.locator('[data-role="marks-text"]')).to_have_text(f"Range 0:15{DASH}0:18")
    page.keyboard.press("c")
    expect(page.locator('[data-role="composer-time"]')).to_have_text(f"@ 0:15{DASH}0:18")
    page.keyboard.type("Second range, by keyboard.")
    page.keyboard.press("Enter")
    expect(page.locator(".mk-range")).to_have_count(2)
    expect(page.locator('[data-role="marks"]')).to_be_hidden()

    # [ and ] step between comments, seeking to each.
    seek(page, 0)
    page.locator('[data-role="player-stage"]').focus()
    page.keyboard.press("]")
    page.wait_for_function(
        "(t) => Math.abs(window.loupePlayer.video.currentTime - t) < 0.1",
        arg=saved["start_ms"] / 1000,
    )
    page.keyboard.press("]")
    page.wait_for_function("() => Math.abs(window.loupePlayer.video.currentTime - 15) < 0.1")
    page.keyboard.press("[")
    page.wait_for_function(
        "(t) => Math.abs(window.loupePlayer.video.currentTime - t) < 0.1",
        arg=saved["start_ms"] / 1000,
    )

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Edit and delete one's own comment (with a confirmation).
    first = page.locator(".note").first
    first.hover()
    first.get_by_role("button", name="Edit").click()
    expect(body).to_have_value("Watch how the group settles after the transition.")
    body.fill("Watch how the group settles after the transition (edited).")
    body.press("Enter")
    expect(first).to_contain_text("(edited)")
    expect(first).to_contain_text("edited")
    last = page.locator(".note").last
    last.hover()
    last.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete this comment?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.locator(".note")).to_have_count(1)
    expect(page.locator(".mk-range")).to_have_count(1)
    context.close()


def test_a_private_note_never_reaches_the_teacher(
    browser: Browser, server: LiveServer, arrange: Flask, clip: Path, problems: Problems
) -> None:
    video_id = ready_lesson(arrange, clip, "Morning meeting")
    coach, page = open_lesson(browser, server, MAYA, video_id, problems)
    teacher, tpage = open_lesson(browser, server, ANA, video_id, problems)

    seek(page, 4)
    page.keyboard.press("c")
    page.keyboard.type("Ask about the seating chart before the debrief.")
    composer = page.locator('[data-role="composer"]')
    composer.get_by_text("Private note — only you").click()
    expect(composer.get_by_role("checkbox", name="Private note — only you")).to_be_checked()
    page.keyboard.press("Control+Enter")
    expect(page.locator(".note")).to_have_count(1)
    expect(page.locator(".note .note-private")).to_have_text("Private note — only you")

    seek(page, 9)
    page.keyboard.press("c")
    page.keyboard.type("Clear launch of the task.")
    page.keyboard.press("Enter")
    expect(page.locator(".note")).to_have_count(2)
    # The new comment is shared again: the private switch does not stick.
    expect(page.locator(".note").last.locator(".note-private")).to_be_hidden()

    # The teacher gets the shared one live, never the private one, now or after a reload.
    expect(tpage.locator(".note")).to_have_count(1)
    expect(tpage.locator(".note")).to_contain_text("Clear launch")
    tpage.reload()
    expect(tpage.locator('[data-role="list"]')).to_have_attribute("data-rendered", "true")
    expect(tpage.locator(".note")).to_have_count(1)
    expect(tpage.get_by_text("seating chart")).to_have_count(0)
    expect(tpage.locator(".mk")).to_have_count(1)
    teacher.close()
    coach.close()


def test_a_viewer_reads_feedback_without_a_composer(
    browser: Browser, server: LiveServer, arrange: Flask, clip: Path, problems: Problems
) -> None:
    video_id = ready_lesson(
        arrange, clip, "Photosynthesis lab", shares=((MAYA, "comment"), (BEN, "view"))
    )
    coach = api(server, MAYA)
    post(coach, server, video_id, start_ms=5000, body="Nice hook with the plant photos.")
    context, page = open_lesson(browser, server, BEN, video_id, problems)
    expect(page.locator(".note")).to_have_count(1)
    expect(page.locator(".note")).to_contain_text("Nice hook")
    expect(page.locator('[data-role="composer"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Reply")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit")).to_have_count(0)
    expect(page.locator(".fb-readonly")).to_be_visible()
    page.keyboard.press("c")
    expect(page.locator("#live-status")).to_have_text(
        "You can watch this lesson but not comment on it."
    )
    # A comment made while the viewer watches still arrives live.
    post(coach, server, video_id, start_ms=8000, body="Second look at the lab safety talk.")
    expect(page.locator(".note")).to_have_count(2)
    context.close()


def test_imported_feedback_shows_its_importer_and_the_mark(
    browser: Browser, server: LiveServer, arrange: Flask, clip: Path, problems: Problems
) -> None:
    video_id = ready_lesson(arrange, clip, "Imported reading group")
    spoofed = 'Ana López <img src=x onerror="window.pwned=1">'
    document = {
        "format": "loupe.annotations",
        "version": 1,
        "annotations": [
            {
                "start_ms": 3000,
                "body": "Redo the whole lesson.",
                "kind": "suggestion",
                "visibility": "shared",
                "author": {"name": spoofed},
                "created_at": "2025-03-04T10:00:00Z",
                "replies": [
                    {
                        "author": {"name": "Principal"},
                        "body": "Yes.",
                        "created_at": "2025-03-04T10:05:00Z",
                    }
                ],
            }
        ],
    }
    made = api(server, MAYA).post(
        f"{server.url}/api/videos/{video_id}/annotations/import", json=document, timeout=10
    )
    assert made.status_code == 201, made.text
    context, page = open_lesson(browser, server, ANA, video_id, problems)
    note = page.locator(".note")
    expect(note).to_have_count(1)
    expect(note.locator(".note-head [data-role='author']")).to_have_text("Maya Chen")
    expect(note.locator(".note-meta .note-imported")).to_have_text(
        f"Imported — originally by {spoofed}"
    )
    reply = note.locator(".reply")
    expect(reply.locator("[data-role='author']")).to_have_text("Maya Chen")
    expect(reply.locator(".note-imported")).to_have_text("Imported — originally by Principal")
    expect(page.locator(".note img")).to_have_count(0)  # the name is text, never markup
    assert page.evaluate("() => window.pwned") is None
    context.close()


def test_a_thousand_annotations_render_fast(
    browser: Browser, server: LiveServer, arrange: Flask, clip: Path, problems: Problems
) -> None:
    import time

    from app.feedback.schemas import AnnotationIn
    from app.feedback.service import create_annotation

    video_id = ready_lesson(arrange, clip, "A much-discussed lesson")
    started = time.monotonic()
    with arrange.app_context():
        coach = accounts.find_user_by_email(MAYA)
        assert coach is not None
        from app.feedback.service import framework_for

        video = db.session.get(Video, video_id)
        assert video is not None
        fw = framework_for(video, coach)
        assert fw is not None
        dims = list(fw.dimensions)
        for i in range(1000):
            d = dims[i % len(dims)]
            ranged = i % 7 == 0
            start = (i * 23) % ((DURATION - 2) * 1000)
            create_annotation(
                coach,
                video_id,
                AnnotationIn(
                    start_ms=start,
                    end_ms=start + 1500 if ranged else None,
                    body=f"Comment {i}: students **explain** their thinking to a partner.",
                    dimension_id=d.id if i % 6 else None,
                    level_id=d.levels[(i // 5) % len(d.levels)].id if i % 6 else None,
                    kind=("note", "strength", "question", "suggestion")[i % 4],
                ),
            )
        db.session.remove()
    print(f"\ncreated 1000 annotations through the service in {time.monotonic() - started:.1f} s")

    context, page = open_lesson(browser, server, MAYA, video_id, problems)
    metrics = page.evaluate("() => window.loupeLesson.metrics")
    print("\nmetrics:", {k: round(v) for k, v in metrics.items()})
    expect(page.locator(".note")).to_have_count(1000)
    expect(page.locator(".mk")).to_have_count(1000)
    print(
        f"1000 annotations: render {metrics['renderMs']:.0f} ms (list and markers, with layout), "
        f"fetch {metrics['fetchMs']:.0f} ms, open {metrics['openMs']:.0f} ms"
    )
    assert metrics["count"] == 1000
    # The < 300 ms target is a figure for the note (quiet machine), not an assertion: on a
    # loaded 2-core CI the same page took 429 ms.
    seek(page, 11)
    expect(page.locator(".note.is-current").first).to_be_visible()
    # The list follows the playhead: the first current comment scrolls into view.
    page.wait_for_function(
        """() => {
             const list = document.querySelector('[data-role="list-scroller"]');
             const row = document.querySelector('.note.is-current');
             const top = row.offsetTop - list.scrollTop;
             return top >= 0 && top < list.clientHeight;
           }"""
    )
    screenshot(page, "player-thousand")
    # The list still follows the playhead and filters without trouble.
    page.locator('[data-filter="kind"]').select_option("question")
    expect(page.locator(".note:visible")).to_have_count(250)
    expect(page.locator('[data-role="count"]')).to_have_text("250 of 1000")
    context.close()


def test_catch_up_after_a_reconnect(
    browser: Browser, server: LiveServer, arrange: Flask, clip: Path, problems: Problems
) -> None:
    video_id = ready_lesson(arrange, clip, "Persuasive writing workshop")
    coach = api(server, MAYA)
    first = post(coach, server, video_id, start_ms=2000, body="Strong opening question.")
    context, page = open_lesson(browser, server, ANA, video_id, problems)
    expect(page.locator(".note")).to_have_count(1)

    # The teacher's connection drops; meanwhile the coach comments, edits and deletes.
    page.evaluate("() => window.loupeLesson.socket.disconnect()")
    expect(page.locator("body")).to_have_attribute("data-live", "off")
    post(coach, server, video_id, start_ms=7000, body="Missed while offline.")
    edited = coach.patch(
        f"{server.url}/api/annotations/{first['id']}",
        json={"body": "Strong opening question, edited."},
        timeout=10,
    )
    assert edited.status_code == 200, edited.text
    gone = post(coach, server, video_id, start_ms=9000, body="This one is deleted at once.")
    assert coach.delete(f"{server.url}/api/annotations/{gone['id']}", timeout=10).status_code == 204
    expect(page.locator(".note")).to_have_count(1)  # nothing arrives while disconnected

    # Back online: the page rejoins and fetches what changed since its cursor.
    page.evaluate("() => window.loupeLesson.socket.connect()")
    expect(page.locator(".note")).to_have_count(2)
    expect(page.locator(".note").last).to_contain_text("Missed while offline.")
    expect(page.locator(".note").first).to_contain_text("Strong opening question, edited.")
    expect(page.get_by_text("deleted at once")).to_have_count(0)
    context.close()


def test_screenshots_of_a_reviewed_lesson(
    browser: Browser, server: LiveServer, arrange: Flask, clip: Path, problems: Problems
) -> None:
    video_id = ready_lesson(arrange, clip, "Fractions on a number line — 4th grade")
    coach = api(server, MAYA)
    teacher = api(server, ANA)
    fw = framework(coach, server, video_id)
    eng = dimension(fw, "Student engagement")
    cul = dimension(fw, "Classroom culture")
    mon = dimension(fw, "Monitoring of student progress")
    acc = dimension(fw, "Access to content")
    con = dimension(fw, "Lesson content")

    def level(d: dict[str, Any], score: int) -> int:
        found: int = next(lv["id"] for lv in d["levels"] if lv["score"] == score)
        return found

    items: list[tuple[Any, ...]] = [
        (coach, 1200, None, cul, 3, "strength", "Clear start: the **do-now** was on the board."),
        (coach, 2600, 5800, con, 2, "suggestion", "State the goal in student words."),
        (teacher, 4000, None, None, 0, "note", "I forgot to hand out the number lines here."),
        (coach, 6500, None, eng, 3, "strength", "Turn-and-talk: every pair is talking."),
        (coach, 8200, 12400, mon, 2, "question", "What did you notice while circulating?"),
        (coach, 9800, None, acc, 4, "strength", "Sentence frames on every desk."),
        (coach, 11000, None, eng, 2, "suggestion", "Cold call a quiet table next."),
        (coach, 13500, 17000, cul, 4, "note", "- Smooth transition\n- Materials ready"),
        (coach, 15200, None, mon, 3, "strength", "Hinge question caught the misconception."),
        (coach, 18100, None, None, 0, "question", "Could the exit ticket come earlier?"),
        (coach, 19600, 22400, con, 3, "note", "Good link to last week's halves."),
        (teacher, 21000, None, None, 0, "note", "Reflection: slow down the summary."),
    ]
    made = []
    for http, start, end, dim, score, kind, body in items:
        payload: dict[str, Any] = {"start_ms": start, "body": body, "kind": kind}
        if end:
            payload["end_ms"] = end
        if dim:
            payload["dimension_id"] = dim["id"]
            payload["level_id"] = level(dim, score)
        made.append(post(http, server, video_id, **payload))
    post(
        coach,
        server,
        video_id,
        start_ms=16000,
        body="Debrief: ask about pacing.",
        visibility="private",
    )
    reply = teacher.post(
        f"{server.url}/api/annotations/{made[3]['id']}/replies",
        json={"body": "Thank you! We practised the routine all week."},
        timeout=10,
    )
    assert reply.status_code == 201

    for name, viewport in (("player-dozen", WIDE), ("player-dozen-tablet", TABLET)):
        context, page = open_lesson(browser, server, MAYA, video_id, problems, viewport)
        _, watcher = open_lesson(browser, server, ANA, video_id, problems, viewport)
        expect(page.locator(".note")).to_have_count(13)
        expect(page.locator(".timeline")).to_have_attribute("data-wave", "true")
        expect(page.locator('[data-role="presence-text"]')).to_have_text("Ana López is watching")
        seek(page, 6.8)
        expect(page.locator(".note.is-current")).to_have_count(1)
        # The summary counts and averages per dimension, and filters the list when clicked.
        summary = page.get_by_role("button", name=re.compile(r"^Student engagement: 2 comments"))
        expect(summary).to_contain_text("avg 2.5 / 4")
        summary.click()
        expect(page.locator(".note:visible")).to_have_count(2)
        expect(page.locator(".mk:visible")).to_have_count(2)
        summary.click()
        expect(page.locator(".note:visible")).to_have_count(13)
        # Hovering a marker previews the frame and the comment.
        pin = page.locator('.mk[aria-label^="0:06 Student engagement"]').bounding_box()
        assert pin is not None
        page.mouse.move(pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] / 2)
        expect(page.locator('[data-role="tip-note"]')).to_contain_text("Turn-and-talk")
        screenshot(page, name)

        page.locator('[data-role="player-stage"]').focus()
        page.keyboard.press("c")
        page.keyboard.type("Students explain their reasoning to a partner before sharing.")
        page.get_by_role("group", name="Rubric dimension").get_by_role(
            "button", name="Student engagement", exact=True
        ).click()
        page.evaluate("() => window.scrollTo(0, 0)")
        screenshot(page, f"{name}-composing")
        watcher.context.close()
        context.close()
