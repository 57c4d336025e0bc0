"""Run ffmpeg safely: read its progress, watch it, and kill its whole process group."""

from __future__ import annotations

import collections
import contextlib
import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from media_pipeline.errors import CANCELLED, PipelineError
from media_pipeline.words import span

_PR_SET_PDEATHSIG = 1
_libc: ctypes.CDLL | None = None
with contextlib.suppress(OSError):
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _die_with_parent() -> None:
    # Runs in the child before exec: if the worker that started ffmpeg is killed (even by
    # SIGKILL), the kernel kills ffmpeg too, so no orphan keeps writing into a staging folder.
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


DISK_FULL = "The server ran out of disk space; processing will be retried."
# Found on PATH only: a server without them must say so, not run some other copy.
FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
FFPROBE = shutil.which("ffprobe") or "ffprobe"


def tool_missing(program: str, exc: OSError) -> PipelineError:
    """Describe a video tool that could not be started (not installed, not executable)."""
    name = os.path.basename(program)
    return PipelineError(
        f"The server cannot process videos: its video tool {name} is missing or cannot run. "
        "Ask your administrator, then try again.",
        detail=f"{program}: {exc}",
    )


# Demuxers an upload may be opened with; anything else (hls, concat, image2, tty...) is refused
# before it can read a second file. Names must match ffmpeg's demuxer names.
FORMAT_WHITELIST = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,mpegts,avi"
PROTOCOL_WHITELIST = "file"

# Count of real ffmpeg launches per purpose ("encode", "remux", "poster", ...); tests read it to
# prove that one process encodes every rendition.
FFMPEG_RUNS: collections.Counter[str] = collections.Counter()
_RUNS_LOCK = threading.Lock()

GLOBAL_ARGS = ("-hide_banner", "-nostdin", "-loglevel", "error", "-y")
PROGRESS_ARGS = ("-progress", "pipe:1", "-nostats")

Tick = Callable[[float | None, float | None], None]


def source_url(path: Path) -> str:
    """Return a file: URL so a name starting with '-' or holding ':' is not misread."""
    return "file:" + str(path.resolve())


@dataclass
class _State:
    out_time_s: float | None = None
    speed: float | None = None
    last_advance: float = field(default_factory=time.monotonic)
    ended: bool = False


def _parse_time(block: dict[str, str]) -> float | None:
    for key, scale in (("out_time_us", 1e-6), ("out_time_ms", 1e-6)):
        raw = block.get(key, "")
        # ffmpeg 5.1 prints out_time_ms in microseconds too (a historical misnomer).
        if raw and raw != "N/A":
            try:
                return max(0.0, int(raw) * scale)
            except ValueError:
                continue
    return None


def _reader(stream: object, state: _State, lock: threading.Lock) -> None:
    block: dict[str, str] = {}
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        line = raw.decode("utf-8", "replace").strip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        block[key] = value
        if key != "progress":
            continue
        t = _parse_time(block)
        speed_raw = block.get("speed", "").rstrip("x").strip()
        with lock:
            if t is not None and (state.out_time_s is None or t > state.out_time_s):
                state.out_time_s = t
                state.last_advance = time.monotonic()
            with contextlib.suppress(ValueError):
                state.speed = float(speed_raw) if speed_raw not in ("", "N/A") else state.speed
            state.ended = value == "end"
        block = {}


def dir_bytes(root: Path) -> int:
    """Return the bytes held by the files below root."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _kill(proc: subprocess.Popen[bytes]) -> None:
    # ffmpeg runs in its own session, so its pid is its process group: kill the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def too_big(max_bytes: int) -> str:
    """Return the reason for output that outgrew its budget."""
    size = f"{max_bytes / 1024**3:.1f} GB" if max_bytes >= 1024**3 else f"{max_bytes:,} bytes"
    return f"The processed files grew larger than the {size} limit for this upload."


@dataclass(frozen=True)
class Watch:
    """Say what a run must respect: cancel flag, deadlines and an output budget."""

    cancel: threading.Event | None = None
    stall_s: float = 60.0
    deadline: float | None = None
    wall_clock_s: float = 0.0
    watch_dir: Path | None = None
    max_bytes: int | None = None


def run(
    args: Sequence[str],
    *,
    kind: str,
    watch: Watch,
    cwd: Path | None = None,
    on_tick: Tick | None = None,
    tick_s: float = 0.25,
    program: str = FFMPEG,
) -> None:
    """Run one ffmpeg command to completion or raise PipelineError, leaving no process behind.

    ``args`` are ffmpeg's arguments without the program name; progress arguments are added here.
    """
    if watch.cancel is not None and watch.cancel.is_set():
        raise PipelineError(CANCELLED)
    argv = [program, *GLOBAL_ARGS, *PROGRESS_ARGS, *args]
    with _RUNS_LOCK:
        FFMPEG_RUNS[kind] += 1
    state = _State()
    lock = threading.Lock()
    with tempfile.TemporaryFile() as errfile:
        # argv is a list built by this package (never a shell); the input is opened with a
        # demuxer and protocol whitelist.
        try:
            proc = subprocess.Popen(  # noqa: S603
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errfile,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # one prctl call: safe between fork and exec
            )
        except (FileNotFoundError, PermissionError) as exc:
            raise tool_missing(program, exc) from exc
        reader = threading.Thread(target=_reader, args=(proc.stdout, state, lock), daemon=True)
        reader.start()
        failure: PipelineError | None = None
        last_size_check = 0.0
        try:
            while True:
                try:
                    proc.wait(timeout=tick_s)
                    break
                except subprocess.TimeoutExpired:
                    pass
                now = time.monotonic()
                with lock:
                    out_time, speed, last_advance = (
                        state.out_time_s,
                        state.speed,
                        state.last_advance,
                    )
                if watch.cancel is not None and watch.cancel.is_set():
                    failure = PipelineError(CANCELLED)
                elif now - last_advance > watch.stall_s:
                    failure = PipelineError(
                        f"Processing stopped: ffmpeg made no progress for {watch.stall_s:g} "
                        "seconds."
                    )
                elif watch.deadline is not None and now > watch.deadline:
                    failure = PipelineError(
                        f"Processing took longer than the {span(watch.wall_clock_s)} limit."
                    )
                elif (
                    watch.watch_dir is not None
                    and watch.max_bytes is not None
                    and now - last_size_check >= 1.0
                ):
                    last_size_check = now
                    if dir_bytes(watch.watch_dir) > watch.max_bytes:
                        failure = PipelineError(too_big(watch.max_bytes))
                if failure is not None:
                    _kill(proc)
                    break
                if on_tick is not None:
                    on_tick(out_time, speed)
        except BaseException:
            _kill(proc)
            raise
        finally:
            reader.join(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        if failure is not None:
            raise failure
        errfile.seek(0)
        stderr = errfile.read()[-8000:].decode("utf-8", "replace")
    rc = proc.returncode
    if rc == 0:
        return
    detail = " | ".join(line for line in stderr.strip().splitlines()[-5:])
    if rc < 0:
        raise PipelineError(
            "Processing was interrupted; it will be retried.", transient=True, detail=detail
        )
    if "No space left on device" in stderr:
        raise PipelineError(DISK_FULL, transient=True, detail=detail)
    if "Cannot allocate memory" in stderr:
        raise PipelineError(
            "The server ran out of memory; processing will be retried.",
            transient=True,
            detail=detail,
        )
    raise PipelineError(
        "This video could not be converted; it may be damaged.", detail=f"{kind}: {detail}"
    )


def input_options(**extra: str | None) -> dict[str, str | None]:
    """Return the input options every untrusted input is opened with."""
    return {
        "format_whitelist": FORMAT_WHITELIST,
        "protocol_whitelist": PROTOCOL_WHITELIST,
        **extra,
    }
