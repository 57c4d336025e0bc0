"""Where the gateway writes recordings (raw classroom media) and how they are removed.

The gateway writes `<data>/rtc/live-<stream id>/` and `<data>/rtc/debrief-<debrief id>/`; the
worker and the web app remove them once a recording is made into a lesson or refused, and a
periodic sweep removes what nobody owns any more. Nothing else of the app is imported here.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

Kind = Literal["live", "debrief"]
KINDS: tuple[Kind, ...] = ("live", "debrief")
RESULT = "recording.json"  # the gateway's summary beside a debrief's tracks
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
    for path in [*paths, str(base / RESULT)]:
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
