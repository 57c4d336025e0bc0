"""The command line: JSON probe, progress lines on stderr, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run python -m media_pipeline from the repo root."""
    return subprocess.run(
        [sys.executable, "-m", "media_pipeline", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )


def test_probe_prints_media_info(h264_clip: Path) -> None:
    done = cli("probe", h264_clip)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["video"]["codec"] == "h264"
    assert (info["video"]["display_width"], info["video"]["display_height"]) == (640, 360)
    assert info["audio"]["channels"] == 2
    assert info["duration_s"] == 6


def test_process_reports_progress_and_succeeds(h264_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = cli("process", h264_clip, out, "--ladder", "360,240", "--threads", "1")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["manifest"] == str(out / "manifest.json")
    updates = [json.loads(line) for line in done.stderr.splitlines()]
    assert updates
    for update in updates:
        assert set(update) >= {"stage", "percent", "eta_s", "playable"}
    assert updates[-1] == {
        "stage": "done",
        "percent": 100.0,
        "eta_s": 0.0,
        "playable": True,
        "speed": None,
    }
    assert (out / "hls" / "master.m3u8").is_file()


def test_process_bad_input_prints_one_error_line(tmp_path: Path) -> None:
    source = tmp_path / "notes.mp4"
    source.write_text("not a video\n")
    done = cli("process", source, tmp_path / "out")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "error: This file is not a video we can read."
    assert not (tmp_path / "out").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert cli().returncode == 2
    assert cli("process", tmp_path / "x.mp4").returncode == 2
    assert cli("process", tmp_path / "x.mp4", tmp_path / "o", "--ladder", "big").returncode == 2
