"""Bulk import of a district's folder of lesson files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from flask import Flask

from app.accounts.models import User
from app.cli import main
from app.core.extensions import db
from app.core.storage import storage
from app.lessons import imports
from app.lessons.models import Video


def test_import_a_folder_once(app: Flask, make_user: Callable[..., User], tmp_path: Path) -> None:
    teacher = make_user("teacher")
    folder = tmp_path / "district-share"
    (folder / "fall").mkdir(parents=True)
    (folder / "Math_period_3.MP4").write_bytes(b"first lesson bytes")
    (folder / "fall" / "Reading circle.mov").write_bytes(b"second lesson bytes")
    (folder / "fall" / "same as first.mkv").write_bytes(b"first lesson bytes")
    (folder / "notes.txt").write_text("not a video")
    env = {
        "LOUPE_DATA_DIR": str(app.config["DATA_DIR"]),
        "LOUPE_SECRET_KEY": app.config["SECRET_KEY"],
    }

    first = CliRunner().invoke(
        main, ["import", str(folder), "--owner", teacher.email, "--title-from", "filename"], env=env
    )
    assert first.exit_code == 0, first.output
    assert "2 imported, 1 skipped, 0 failed." in first.output
    lines = first.output.splitlines()
    assert any(line.startswith("skipped") and "same as first.mkv" in line for line in lines)
    titles = sorted(v.title for v in db.session.query(Video).filter_by(owner_id=teacher.id))
    assert titles == ["Math period 3", "Reading circle"]
    for video in db.session.query(Video).filter_by(owner_id=teacher.id):
        source = storage().source_path(video.id)
        assert source is not None
        assert video.source_sha256 is not None
    assert (folder / "Math_period_3.MP4").exists()  # the district's originals stay

    again = CliRunner().invoke(main, ["import", str(folder), "--owner", teacher.email], env=env)
    assert again.exit_code == 0
    assert "0 imported, 3 skipped, 0 failed." in again.output


def test_import_refuses_unknown_owners_and_missing_folders(app: Flask, tmp_path: Path) -> None:
    env = {
        "LOUPE_DATA_DIR": str(app.config["DATA_DIR"]),
        "LOUPE_SECRET_KEY": app.config["SECRET_KEY"],
    }
    unknown = CliRunner().invoke(
        main, ["import", str(tmp_path), "--owner", "nobody@x.example"], env=env
    )
    assert unknown.exit_code == 1
    assert "No active account" in unknown.output
    missing = CliRunner().invoke(
        main, ["import", str(tmp_path / "nope"), "--owner", "a@b.example"], env=env
    )
    assert missing.exit_code == 2


def test_import_outcomes_name_each_file(
    app: Flask, make_user: Callable[..., User], tmp_path: Path
) -> None:
    teacher = make_user("teacher")
    (tmp_path / "a.webm").write_bytes(b"x")
    (outcome,) = imports.import_folder(teacher, tmp_path)
    assert (outcome.status, outcome.path.name) == ("imported", "a.webm")
    assert outcome.video_id is not None
