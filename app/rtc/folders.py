"""Where the gateway writes recordings (raw classroom media), their manifests, and how they go.

The gateway writes `<data>/rtc/live-<stream id>/` and `<data>/rtc/debrief-<debrief id>/`: the
track files and, for each finished recording, a manifest (its tracks with their offsets, and
the duration) named by its own id. A job is given the lesson's or debrief's id and the
manifest's, and reads the tracks from here; a manifest of its own for each recording, so a
late second finish into the same folder never replaces the one a job is about to read. The
worker and the web app remove the files once a recording is made into a lesson or refused,
and a periodic sweep removes what nobody owns any more. Nothing else of the app is imported
here.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

Kind = Literal["live", "debrief"]
KINDS: tuple[Kind, ...] = ("live", "debrief")
MANIFEST_ID = re.compile(r"[0-9a-f]{12}")  # a manifest's id is all a task argument carries
WRITING_S = 600.0  # a folder written to this recently may still be the gateway's


def folder(data_dir: Path, kind: Kind, owner_id: int) -> Path:
    """Return the folder of a live lesson's or a debrief's recording."""
    return data_dir / "rtc" / f"{kind}-{owner_id}"


def remove(data_dir: Path, kind: Kind, owner_id: int) -> None:
    """Remove a recording's whole folder (nobody writes to it any more)."""
    shutil.rmtree(folder(data_dir, kind, owner_id), ignore_errors=True)


def discard(data_dir: Path, kind: Kind, owner_id: int, paths: Iterable[str]) -> None:
    """Remove the files of one finished recording, and the folder once nothing else is in it.

    Only these files: a debrief may record again into the same folder meanwhile.
    """
    base = folder(data_dir, kind, owner_id).resolve()
    for path in paths:
        target = Path(path).resolve()
        if target.parent == base:  # the gateway's paths, never anything outside the folder
            target.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: another recording is being written
        base.rmdir()


def existing(data_dir: Path) -> Iterator[tuple[Kind, int, Path]]:
    """Yield every recording folder on disk with its kind and owner id."""
    root = data_dir / "rtc"
    if not root.is_dir():
        return
    for entry in sorted(root.iterdir()):
        kind, _, number = entry.name.partition("-")
        if entry.is_dir() and kind in KINDS and number.isdigit() and number.isascii():
            yield kind, int(number), entry


def quiet_s(path: Path) -> float:
    """Return how long ago anything in the folder was last written."""
    newest = path.stat().st_mtime
    for entry in path.iterdir():
        with contextlib.suppress(OSError):
            newest = max(newest, entry.stat().st_mtime)
    return max(0.0, time.time() - newest)


def manifest_path(where: Path, manifest_id: str) -> Path:
    """Return the file of one manifest in a recording's folder."""
    if not MANIFEST_ID.fullmatch(manifest_id):
        raise ValueError(f"not a manifest id: {manifest_id!r}")
    return where / f"recording-{manifest_id}.json"


def write_result(where: Path, recording: dict[str, Any]) -> str:
    """Leave the manifest of a finished recording in its folder; return the manifest's id."""
    manifest_id = uuid.uuid4().hex[:12]
    where.mkdir(parents=True, exist_ok=True)
    text = json.dumps({**recording, "manifest": manifest_id}, indent=2)
    manifest_path(where, manifest_id).write_text(text)
    return manifest_id


def read_result(where: Path, manifest_id: str | None) -> dict[str, Any]:
    """Return a manifest of a folder; without one, a recording with no tracks."""
    data = None
    if manifest_id is not None:
        try:
            data = json.loads(manifest_path(where, manifest_id).read_text())
        except (OSError, ValueError):
            data = None
    return data if isinstance(data, dict) else {"tracks": [], "duration_s": 0}


def files_of(where: Path, recording: dict[str, Any]) -> list[str]:
    """Return a finished recording's files: its tracks and its manifest."""
    paths = [str(t.get("path", "")) for t in recording.get("tracks", []) if isinstance(t, dict)]
    manifest = recording.get("manifest")
    if isinstance(manifest, str) and MANIFEST_ID.fullmatch(manifest):
        paths.append(str(manifest_path(where, manifest)))
    return paths
