"""Bulk import: every video file of a folder becomes a lesson of one teacher, once."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from app.accounts.models import User
from app.core.errors import ServiceError
from app.core.extensions import db
from app.lessons import processing

VIDEO_SUFFIXES = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mov",
        ".qt",
        ".mkv",
        ".webm",
        ".avi",
        ".mts",
        ".m2ts",
        ".ts",
        ".3gp",
        ".wmv",
        ".mpg",
        ".mpeg",
    }
)


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one file."""

    path: Path
    status: str  # imported | skipped | failed
    detail: str
    video_id: int | None = None


def _candidates(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.suffix.lower() in VIDEO_SUFFIXES:
            yield path


def import_folder(
    owner: User, folder: Path, *, title_from_filename: bool = True
) -> Iterator[ImportOutcome]:
    """Import every video file below folder for the owner; skip files imported before."""
    if not folder.is_dir():
        raise ServiceError(f"{folder} is not a folder.")
    for path in _candidates(folder):
        try:
            digest = processing.source_digest(path)
            existing = processing.find_by_digest(owner, digest)
            if existing is not None:
                yield ImportOutcome(
                    path, "skipped", f"already imported as lesson {existing.id}", existing.id
                )
                continue
            title = (
                path.stem.replace("_", " ").strip() if title_from_filename else "Imported lesson"
            )
            # A copy, so the district's originals stay where they were.
            with tempfile.NamedTemporaryFile(
                dir=current_app.config["DATA_DIR"], delete=False
            ) as tmp:
                copy = Path(tmp.name)
            shutil.copyfile(path, copy)
            video = processing.ingest(
                owner, copy, title=title or "Imported lesson", original_name=path.name
            )
            video.source_sha256 = digest
            db.session.commit()
            yield ImportOutcome(
                path, "imported", f"lesson {video.id}, queued for processing", video.id
            )
        except (ServiceError, OSError) as exc:
            reason = exc.message if isinstance(exc, ServiceError) else str(exc)
            yield ImportOutcome(path, "failed", reason)
