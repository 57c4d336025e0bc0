"""A teacher and a coach sign in through the real pages and see exactly the right lessons."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from app.accounts import service as accounts
from app.demo import DEMO_PASSWORD
from app.lessons import service as videos
from tests.browser.conftest import ADMIN, ANA, BEN, MAYA, screenshot, sign_in
from tests.conftest import LiveServer


def arrange(server: LiveServer) -> dict[str, int]:
    with server.app().app_context():
        ana, ben = accounts.find_user_by_email(ANA), accounts.find_user_by_email(BEN)
        assert ana is not None
        assert ben is not None
        ids = {
            "shared": videos.create_video(
                ana, title="Fractions on a number line", subject="Math", grade="4"
            ).id,
            "private": videos.create_video(
                ana, title="Morning meeting", subject="SEL", grade="4"
            ).id,
            "ben": videos.create_video(
                ben, title="Photosynthesis lab", subject="Science", grade="5"
            ).id,
        }
        videos.share_video(ana, ids["shared"], MAYA, "comment")
        return ids


def test_teacher_and_coach_see_the_right_lessons(browser: Browser, live_server: LiveServer) -> None:
    ids = arrange(live_server)

    teacher = browser.new_context(viewport={"width": 1280, "height": 800})
    page = teacher.new_page()
    sign_in(page, live_server, ANA)
    mine = page.locator("#my-videos .video-card h3")
    expect(mine).to_have_text(["Morning meeting", "Fractions on a number line"])
    expect(page.get_by_text("Photosynthesis lab")).to_have_count(0)
    screenshot(page, "teacher-home")

    coach = browser.new_context(viewport={"width": 1280, "height": 800})
    coach_page = coach.new_page()
    sign_in(coach_page, live_server, MAYA)
    expect(coach_page.get_by_role("heading", name="Ana López")).to_be_visible()
    expect(coach_page.get_by_role("heading", name="Ben Carter")).to_be_visible()
    expect(coach_page.locator(".video-card h3")).to_have_text(["Fractions on a number line"])
    screenshot(coach_page, "coach-home")

    # The coach cannot open the unshared lesson, even by typing its address.
    response = coach_page.goto(f"{live_server.url}/videos/{ids['private']}")
    assert response is not None
    assert response.status == 404

    # The teacher shares the second lesson through the dialog; the coach sees it on reload.
    page.locator(f'[data-share-video="{ids["private"]}"]').click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Email of a coach or teacher").fill(MAYA)
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(dialog.locator(".share-list li")).to_have_count(1)
    expect(dialog.locator(".share-list")).to_contain_text("Maya Chen")
    screenshot(page, "share-dialog")

    dialog.get_by_label("Email of a coach or teacher").fill("nobody@elsewhere.example")
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "No active coach or teacher of your district has this email."
    )

    coach_page.goto(f"{live_server.url}/")
    expect(coach_page.locator(".video-card h3")).to_have_text(
        ["Morning meeting", "Fractions on a number line"]
    )

    # Revoking in the dialog removes the coach's access at once.
    dialog.get_by_role("button", name="Revoke access for Maya Chen").click()
    expect(dialog.locator(".share-list li")).to_have_count(0)
    response = coach_page.goto(f"{live_server.url}/videos/{ids['private']}")
    assert response is not None
    assert response.status == 404

    teacher.close()
    coach.close()


def test_admin_manages_the_district(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, ADMIN)
    expect(page.get_by_role("heading", name="Riverbend Unified School District")).to_be_visible()
    expect(page.locator("table tbody tr")).to_have_count(7)

    page.get_by_role("button", name="Check background jobs").click()
    expect(page.locator('#health [data-role="result"]')).to_contain_text("answered in")

    invite = page.locator("section", has=page.get_by_role("heading", name="Invite someone"))
    invite.get_by_label("Email").fill("new.teacher@riverbend.example")
    invite.get_by_role("button", name="Create invitation link").click()
    link = page.get_by_label("Invitation link").input_value()
    assert "/invite/" in link
    screenshot(page, "admin")

    # The invited person opens the link in a fresh browser and joins.
    guest = browser.new_context()
    joiner = guest.new_page()
    joiner.goto(link)
    joiner.get_by_label("Your name").fill("Nia Brooks")
    joiner.get_by_label("Choose a password").fill("a long enough password")
    joiner.get_by_role("button", name="Create my account").click()
    expect(joiner.get_by_role("heading", name="My lessons")).to_be_visible()
    joiner.goto(link)
    expect(joiner.get_by_text("This invitation link is not valid any more")).to_be_visible()
    guest.close()
    context.close()


def test_password_reset_and_change_with_tokens(browser: Browser, live_server: LiveServer) -> None:
    """An admin resets Ben's password; Ben sets a new one, then changes it revoking his token."""
    admin_context = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = admin_context.new_page()
    sign_in(admin, live_server, ADMIN)
    admin.on("dialog", lambda dialog: dialog.accept())
    row = admin.locator("table tbody tr", has_text=BEN)
    row.get_by_role("button", name="Reset password").click()
    expect(admin.get_by_text("Ben Carter's password was reset")).to_be_visible()
    link = admin.get_by_label("Password link").input_value()
    assert "/reset/" in link
    screenshot(admin, "admin-password-reset")
    admin_context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    screenshot(page, "password-reset")
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_role("button", name="Save and sign in").click()
    expect(page.get_by_role("heading", name="My lessons")).to_be_visible()

    page.goto(f"{live_server.url}/account")
    page.get_by_label("Name").fill("OBS on the classroom laptop")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("New token").input_value()
    page.reload()
    revoke = page.get_by_role("checkbox", name="Also revoke my 1 API token")
    expect(revoke).to_be_checked()
    screenshot(page, "account-password-tokens")
    page.get_by_label("Current password").fill("a brand new passphrase")
    page.get_by_label("New password", exact=True).fill("another new passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("1 API token was revoked.")).to_be_visible()
    expect(page.locator(".badge-failed", has_text="Revoked")).to_have_count(1)
    assert (
        page.request.get(
            f"{live_server.url}/api/me", headers={"Authorization": f"Bearer {token}"}
        ).status
        == 401
    )
    context.close()


def test_sign_in_refused_after_repeated_failures(browser: Browser, live_server: LiveServer) -> None:
    page = browser.new_page()
    page.goto(f"{live_server.url}/login")
    for _ in range(5):
        page.get_by_label("Email").fill(MAYA)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("Email").fill(MAYA)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins for this email")
    screenshot(page, "login-refused")
    page.close()
