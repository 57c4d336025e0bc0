"""Coaches build, version, import and export rubric frameworks; teachers only read them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Dialog, Locator, Page, expect

from app.accounts import service as accounts
from app.frameworks import service as frameworks
from tests.browser.conftest import ANA, MAYA, screenshot, sign_in
from tests.conftest import LiveServer

SPEC: dict[str, Any] = {
    "name": "Literacy look-fors",
    "description": "What we look for in reading lessons.",
    "dimensions": [
        {
            "name": "Text complexity",
            "colour": "#0891b2",
            "levels": [
                {"score": 1, "label": "Not yet", "descriptor": "Below grade level."},
                {"score": 2, "label": "Yes", "descriptor": "At grade level."},
            ],
        },
        {
            "name": "Discussion",
            "description": "Students talk about the text.",
            "colour": "#ea580c",
            "levels": [],
        },
    ],
}


def open_page(browser: Browser, server: LiveServer, email: str, width: int = 1280) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 720})
    page = context.new_page()
    sign_in(page, server, email)
    return page


def arrange(server: LiveServer, *, publish: bool) -> int:
    """Create the literacy framework as the coach and return its id."""
    with server.app().app_context():
        coach = accounts.find_user_by_email(MAYA)
        assert coach is not None
        made = frameworks.create_framework(coach, frameworks.parse_spec(SPEC), publish=publish)
        return made.id


def field(scope: Page | Locator, path: str) -> Locator:
    return scope.locator(f'[data-path="{path}"]')


def test_coach_creates_and_publishes_a_framework(browser: Browser, live_server: LiveServer) -> None:
    page = open_page(browser, live_server, MAYA)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Frameworks").click()
    expect(page.get_by_role("heading", name="Frameworks", level=1)).to_be_visible()
    listed = page.locator(".fw-list .fw-item-name")
    expect(listed).to_have_text(["Glow and Grow", "Loupe instructional framework"])
    expect(page.locator(".fw-list .fw-item").first).to_contain_text("Built-in")
    expect(page.locator(".fw-dimension h3")).to_have_text(["Glow", "Grow"])
    page.get_by_role("link", name="Loupe instructional framework").click()
    expect(
        page.get_by_role("heading", name="Loupe instructional framework", level=2)
    ).to_be_focused()
    expect(page.locator(".fw-dimension")).to_have_count(5)
    expect(page.locator(".fw-dimension").first.locator(".fw-level")).to_have_count(4)
    screenshot(page, "frameworks-coach-view")

    page.get_by_role("link", name="New framework").click()
    form = page.locator("form.fw-editor")
    expect(form.get_by_role("heading", name="New framework")).to_be_focused()
    field(form, "name").fill("Literacy look-fors")
    field(form, "description").fill("What we look for in reading lessons.")
    field(form, "dimensions.0.name").fill("Text complexity")
    field(form, "dimensions.0.colour").fill("#0891b2")
    for label, descriptor in [("Not yet", "Below grade level."), ("Yes", "At grade level.")]:
        form.get_by_role("button", name="Add level to dimension 1").click()
        row = form.locator(".fw-edit-dimension").first.locator(".fw-edit-level").last
        expect(row.locator('[data-key="label"]')).to_be_focused()
        row.locator('[data-key="label"]').fill(label)
        row.locator('[data-key="descriptor"]').fill(descriptor)
    expect(field(form, "dimensions.0.levels.1.score")).to_have_value("2")

    form.get_by_role("button", name="Add dimension").click()
    expect(field(form, "dimensions.1.name")).to_be_focused()
    field(form, "dimensions.1.name").fill("Discussion")
    field(form, "dimensions.1.description").fill("Students talk about the text.")
    form.get_by_role("button", name="Add level to dimension 2").click()
    field(form, "dimensions.1.levels.0.label").fill("Some voices")
    form.get_by_role("button", name="Add level to dimension 2").click()
    field(form, "dimensions.1.levels.1.label").fill("Every voice")
    # Two levels with one score: the server refuses, names the dimension, and nothing is lost.
    field(form, "dimensions.1.levels.1.score").fill("1")
    screenshot(page, "frameworks-new-editor")
    form.get_by_role("button", name="Publish").click()
    alert = form.get_by_role("alert")
    expect(alert).to_contain_text("Dimension 2 (“Discussion”)")
    expect(alert).to_contain_text("each level of a dimension needs its own score")
    expect(field(form, "dimensions.1.levels.0.score")).to_be_focused()
    expect(field(form, "dimensions.1.levels.1.label")).to_have_value("Every voice")
    expect(field(form, "name")).to_have_value("Literacy look-fors")

    field(form, "dimensions.1.levels.1.score").fill("2")
    form.get_by_role("button", name="Publish").click()
    view = page.locator(".fw-view")
    expect(view.get_by_role("heading", name="Literacy look-fors", level=2)).to_be_focused()
    expect(view.locator(".fw-badges")).to_contain_text("Published")
    expect(view.locator(".fw-badges")).to_contain_text("Version 1")
    expect(view.locator(".fw-dimension h3")).to_have_text(["Text complexity", "Discussion"])
    expect(view.locator(".fw-dimension").first).to_have_css("border-left-color", "rgb(8, 145, 178)")
    expect(view.locator(".fw-dimension").nth(1).locator(".fw-level")).to_have_text(
        [re.compile("1\\s*Some voices"), re.compile("2\\s*Every voice")]
    )
    expect(listed).to_have_count(3)
    current = page.locator('.fw-item[aria-current="true"]')
    expect(current).to_contain_text("Literacy look-fors")
    expect(current).to_contain_text("Version 1 · 2 dimensions")

    with live_server.app().app_context():
        coach = accounts.find_user_by_email(MAYA)
        assert coach is not None
        made = [f for f in frameworks.list_frameworks(coach) if f.name == "Literacy look-fors"]
        assert [f.status.value for f in made] == ["published"]
        assert frameworks.export_spec(made[0])["dimensions"][0]["levels"][1]["label"] == "Yes"


def test_editing_a_published_framework_shows_version_2_and_keeps_1(
    browser: Browser, live_server: LiveServer
) -> None:
    first = arrange(live_server, publish=True)
    page = open_page(browser, live_server, MAYA)
    page.goto(f"{live_server.url}/frameworks#framework-{first}")
    view = page.locator(".fw-view")
    expect(view.get_by_role("heading", name="Literacy look-fors")).to_be_visible()
    expect(view.locator(".fw-versions")).to_be_hidden()
    view.get_by_role("link", name="Edit").click()

    form = page.locator("form.fw-editor")
    save = form.get_by_role("button", name="Save as version 2")
    expect(save).to_be_visible()
    expect(form.locator(".fw-save-note")).to_contain_text("Saving creates version 2.")
    expect(form.locator(".fw-save-note")).to_contain_text(
        "Feedback already given keeps version 1, the one it was made with."
    )
    expect(form.get_by_role("button", name="Save draft")).to_have_count(0)
    field(form, "dimensions.0.levels.1.label").fill("Meets")
    form.get_by_role("button", name="Move dimension 2 up").click()
    expect(form.get_by_role("button", name="Move dimension 1 up")).to_be_focused()
    expect(field(form, "dimensions.0.name")).to_have_value("Discussion")
    screenshot(page, "frameworks-edit-published")

    # Leaving with unsaved changes asks first; staying keeps every change.
    asked: list[str] = []

    def stay(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", stay)
    page.locator(".fw-list").get_by_role("link", name="Glow and Grow").click()
    expect(page).to_have_url(re.compile(f"#framework-{first}/edit$"))
    assert len(asked) == 1
    assert "not saved" in asked[0]
    expect(field(form, "dimensions.1.levels.1.label")).to_have_value("Meets")
    expect(field(form, "dimensions.0.name")).to_have_value("Discussion")

    page.set_viewport_size({"width": 390, "height": 720})
    expect(form.locator(".fw-level-field-name").first).to_be_visible()
    screenshot(page, "frameworks-edit-published-390")
    page.set_viewport_size({"width": 1280, "height": 720})
    save.click()

    expect(view.locator(".fw-badges")).to_contain_text("Version 2")
    expect(view.locator(".fw-dimension h3")).to_have_text(["Discussion", "Text complexity"])
    expect(view.locator(".fw-dimension").nth(1)).to_contain_text("Meets")
    expect(page.locator(".fw-list .fw-item", has_text="Literacy look-fors")).to_have_count(1)
    earlier = view.locator("details.fw-versions")
    expect(earlier.locator("summary")).to_have_text("Earlier versions (1)")
    expect(earlier.get_by_role("link", name="Version 1")).to_be_hidden()
    earlier.locator("summary").click()
    screenshot(page, "frameworks-earlier-versions")
    earlier.get_by_role("link", name="Version 1").click()

    expect(view.get_by_role("heading", name="Literacy look-fors")).to_be_focused()
    expect(view.locator(".fw-badges")).to_contain_text("Earlier version")
    expect(view.locator(".fw-callout")).to_contain_text("This is version 1")
    expect(view.get_by_role("link", name="Edit")).to_have_count(0)
    expect(view.locator(".fw-dimension h3")).to_have_text(["Text complexity", "Discussion"])
    expect(view.locator(".fw-dimension").first).to_contain_text("Yes")
    view.get_by_role("link", name="Open the current version 2").click()
    expect(view.locator(".fw-badges")).to_contain_text("Version 2")
    page.context.close()


def test_import_shows_the_servers_error_and_keeps_the_file(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    page = open_page(browser, live_server, MAYA)
    page.goto(f"{live_server.url}/frameworks")
    importing = page.locator("#fw-import-form")
    chooser = importing.get_by_label("JSON file")
    error = importing.get_by_role("alert")

    not_json = tmp_path / "notes.json"
    not_json.write_text("name: Literacy")
    chooser.set_input_files(not_json)
    importing.get_by_role("button", name="Import as draft").click()
    expect(error).to_contain_text("“notes.json” is not valid JSON")

    bad = tmp_path / "literacy.json"
    spec = json.loads(json.dumps(SPEC))
    spec["dimensions"][1]["colour"] = "orange"
    bad.write_text(json.dumps(spec))
    chooser.set_input_files(bad)
    expect(error).to_be_hidden()
    importing.get_by_role("button", name="Import as draft").click()
    expect(error).to_contain_text("dimensions.1.colour")
    expect(error).to_contain_text("Dimension 2 (“Discussion”), colour")
    expect(error).to_contain_text("colour must look like #1a2b3c")
    expect(chooser).to_have_attribute("aria-invalid", "true")
    assert chooser.evaluate("input => [...input.files].map((f) => f.name)") == ["literacy.json"]
    screenshot(page, "frameworks-import-error")

    good = tmp_path / "literacy-v1.json"
    good.write_text(json.dumps(SPEC))
    chooser.set_input_files(good)
    importing.get_by_role("button", name="Import as draft").click()
    view = page.locator(".fw-view")
    expect(view.get_by_role("heading", name="Literacy look-fors")).to_be_focused()
    expect(view.locator(".fw-badges")).to_contain_text("Draft")
    expect(error).to_be_hidden()
    with page.expect_download() as download:
        view.get_by_role("link", name=re.compile("^Export")).click()
    assert download.value.suggested_filename == "literacy-look-fors-v1.json"
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["dimensions"][1]["name"] == "Discussion"

    view.get_by_role("button", name="Publish").click()
    expect(view.locator(".fw-badges")).to_contain_text("Published")
    expect(view.get_by_role("button", name="Publish")).to_have_count(0)
    page.context.close()


def test_a_teacher_reads_published_frameworks_without_edit_controls(
    browser: Browser, live_server: LiveServer
) -> None:
    draft = arrange(live_server, publish=False)
    anonymous = browser.new_context()
    guest = anonymous.new_page()
    guest.goto(f"{live_server.url}/frameworks")
    expect(guest).to_have_url(re.compile(r"/login\?next=%2Fframeworks"))
    anonymous.close()

    page = open_page(browser, live_server, ANA, width=390)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Frameworks").click()
    expect(page.locator(".fw-list .fw-item-name")).to_have_text(
        ["Glow and Grow", "Loupe instructional framework"]
    )
    page.get_by_role("link", name="Loupe instructional framework").click()
    view = page.locator(".fw-view")
    expect(view.locator(".fw-dimension")).to_have_count(5)
    expect(view.get_by_role("link", name=re.compile("^Export"))).to_be_visible()
    for name in ("New framework", "Edit"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    expect(page.locator("#fw-import-form")).to_have_count(0)
    screenshot(page, "frameworks-teacher-390")

    # Typing an editor's address shows the framework, still read-only; a draft stays hidden.
    five = view.get_by_role("link", name=re.compile("^Export")).get_attribute("href")
    assert five is not None
    five_id = five.split("/")[3]
    page.goto(f"{live_server.url}/frameworks#framework-{five_id}/edit")
    expect(page.locator("form.fw-editor")).to_have_count(0)
    expect(view.get_by_role("heading", name="Loupe instructional framework")).to_be_visible()
    page.goto(f"{live_server.url}/frameworks#framework-{draft}")
    expect(page.locator(".fw-detail")).to_contain_text("There is no such framework")
    page.context.close()
