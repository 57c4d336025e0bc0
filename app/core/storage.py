"""Where a video's files live: one small interface, local disk now, S3-compatible later."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Protocol

from flask import current_app


class VideoStorage(Protocol):
    """The operations the app needs on a video's folder."""

    def video_dir(self, video_id: int) -> Path:
        """Return the folder holding the video's files."""
        ...

    def output_dir(self, video_id: int) -> Path:
        """Return the folder of the video's published playback files (never the source)."""
        ...

    def resolve(self, video_id: int, relpath: str) -> Path | None:
        """Return a published file of the video, or None if absent or outside its folder."""
        ...

    def source_path(self, video_id: int) -> Path | None:
        """Return the uploaded original of the video, if it is there."""
        ...

    def store_source(self, video_id: int, file: Path, suffix: str = "") -> Path:
        """Move an uploaded original into the video's folder and return its new path."""
        ...

    def delete_video(self, video_id: int) -> None:
        """Remove every file of the video."""
        ...


class LocalStorage:
    """Video folders under one root on local disk."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def video_dir(self, video_id: int) -> Path:
        if video_id <= 0:
            raise ValueError("video ids are positive")
        return self.root / "videos" / str(video_id)

    def output_dir(self, video_id: int) -> Path:
        return self.video_dir(video_id) / "out"

    def resolve(self, video_id: int, relpath: str) -> Path | None:
        base = self.output_dir(video_id).resolve()
        if "\x00" in relpath or relpath.startswith(("/", "\\")):
            return None
        candidate = (base / relpath).resolve()
        # resolve() follows links, so a link pointing outside the folder is refused too.
        if not candidate.is_relative_to(base) or not candidate.is_file():
            return None
        return candidate

    def source_path(self, video_id: int) -> Path | None:
        matches = sorted(self.video_dir(video_id).glob("source*"))
        return matches[0] if matches else None

    def store_source(self, video_id: int, file: Path, suffix: str = "") -> Path:
        # The name is ours, never the uploader's: only a short alphanumeric extension survives.
        clean = suffix.lower().lstrip(".")
        clean = clean if clean.isalnum() and clean.isascii() and len(clean) <= 5 else "bin"
        folder = self.video_dir(video_id)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"source.{clean}"
        shutil.move(file, target)
        return target

    def delete_video(self, video_id: int) -> None:
        shutil.rmtree(self.video_dir(video_id), ignore_errors=True)


def storage() -> VideoStorage:
    """Return the configured storage of the current app."""
    store: VideoStorage = current_app.extensions["loupe.storage"]
    return store
