"""Swap a finished folder into place atomically, and clean up after failures."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import uuid
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_libc: ctypes.CDLL | None = None
with contextlib.suppress(OSError):
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def staging_dir(outdir: Path, label: str) -> Path:
    """Create a hidden folder beside outdir (same filesystem, so rename is atomic)."""
    path = outdir.parent / f".{outdir.name}.{label}-{uuid.uuid4().hex[:12]}"
    path.mkdir(mode=0o755)
    return path


def discard_leftovers(outdir: Path) -> list[Path]:
    """Remove the staging, preview and set-aside folders a killed run left beside outdir.

    A run that dies by SIGKILL cannot clean up after itself; the next run for the same outdir
    (one at a time, which the caller guarantees) removes what it left.
    """
    removed = []
    for kind in ("staging", "preview", "old"):
        for path in outdir.parent.glob(f".{outdir.name}.{kind}-*"):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False if unsupported."""
    func = getattr(_libc, "renameat2", None) if _libc is not None else None
    if func is None:
        return False
    rc = func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: filesystem or kernel cannot swap
        return False
    raise OSError(err, os.strerror(err), str(a))


def swap_in(new: Path, outdir: Path) -> Path | None:
    """Make ``new`` appear at outdir in one step; return where the old outdir now is, if any.

    With an existing outdir the two folders are exchanged atomically (Linux renameat2); where
    that is unsupported the old folder is renamed aside first, leaving a moment without outdir.
    """
    if not outdir.exists():
        os.rename(new, outdir)
        return None
    if _exchange(new, outdir):
        return new
    aside = outdir.parent / f".{outdir.name}.old-{uuid.uuid4().hex[:12]}"
    os.rename(outdir, aside)
    os.rename(new, outdir)
    return aside


def remove(path: Path | None) -> None:
    """Delete a folder this package made, ignoring one that is already gone."""
    if path is not None and path.exists():
        shutil.rmtree(path, ignore_errors=True)


def link_tree(src: Path, dst: Path) -> None:
    """Mirror src into an existing dst with hard links (no data copied)."""
    for dirpath, _dirs, files in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            if name.startswith("."):
                continue
            os.link(Path(dirpath) / name, dst / rel / name)


class Outdir:
    """Swap previews and then the full set into outdir, remembering what it held before.

    The first preview displaces what outdir held before the call (an earlier full set, or
    nothing); that is kept aside until the run ends so a failure or cancel can put it back.
    Later previews displace earlier previews, which are deleted at once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.previous: Path | None = None
        self.preview_live = False

    def show(self, preview: Path) -> None:
        """Swap a complete preview folder in; delete it instead if the swap fails."""
        try:
            replaced = swap_in(preview, self.path)
        except BaseException:
            remove(preview)
            raise
        if self.preview_live:
            remove(replaced)
        else:
            self.previous, self.preview_live = replaced, True

    def finish(self, workdir: Path) -> None:
        """Swap the full set in and delete whatever it displaced."""
        replaced = swap_in(workdir, self.path)
        # What was swapped out is either the preview or the set from an earlier run.
        remove(replaced)
        remove(self.previous)
        self.previous, self.preview_live = None, False

    def restore(self) -> None:
        """Put outdir back as it was before this run: the earlier set, or nothing."""
        if not self.preview_live:
            return
        if self.previous is not None:
            stale = swap_in(self.previous, self.path)
            remove(stale)
        else:
            remove(self.path)
        self.previous, self.preview_live = None, False
