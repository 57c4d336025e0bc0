"""Measure tus upload throughput on loopback and the web process's memory growth.

Starts `loupe serve --no-worker` on a throwaway data folder, then uploads SIZE bytes twice:
in 8 MiB PATCH requests, and as one streamed request. Prints MB/s and the web worker's
resident memory before, at peak, and its growth. Run by hand:

    .venv/bin/python benchmarks/upload.py [--gib 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BLOCK = os.urandom(8 * 1024 * 1024)  # repeated, so the client side costs no disk or memory


def rss_kib(pid: int) -> int:
    """Return the resident memory of a process in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def web_worker_pid(server_pid: int) -> int:
    """Return gunicorn's worker process (the child serving requests)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
        for child in children:
            if (
                "loupe-web" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
                or child
            ):
                return int(child)
        time.sleep(0.1)
    raise RuntimeError("no web worker process found")


class PeakSampler(threading.Thread):
    """Sample a process's memory every 50 ms and keep the highest value."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss_kib(pid)
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.05)


def body(size: int) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        block = BLOCK[: min(len(BLOCK), size - sent)]
        sent += len(block)
        yield block


def upload(url: str, headers: dict[str, str], size: int, chunk: int | None) -> float:
    """Upload size bytes (in chunks, or as one request when chunk is None); return seconds."""
    created = requests.post(
        f"{url}/api/uploads/", headers={**headers, "Upload-Length": str(size)}, timeout=30
    )
    created.raise_for_status()
    location = created.headers["Location"]
    patch = {**headers, "Content-Type": "application/offset+octet-stream"}
    started = time.perf_counter()
    offset = 0
    while offset < size:
        length = size - offset if chunk is None else min(chunk, size - offset)
        data = body(length) if chunk is None else BLOCK[:length]
        answer = requests.patch(
            location, data=data, headers={**patch, "Upload-Offset": str(offset)}, timeout=600
        )
        if answer.status_code != 204:
            raise RuntimeError(f"PATCH answered {answer.status_code}: {answer.text}")
        offset = int(answer.headers["Upload-Offset"])
    return time.perf_counter() - started


def main() -> None:
    """Run both uploads and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=5099)
    args = parser.parse_args()
    size = int(args.gib * 1024**3)
    with tempfile.TemporaryDirectory(prefix="loupe-upload-bench-") as tmp:
        env = {
            **os.environ,
            "LOUPE_DATA_DIR": tmp,
            "LOUPE_DEMO_LESSONS": "0",
            "LOUPE_USER_QUOTA_BYTES": str(10 * size),
        }
        serve = ["serve", "--demo", "--no-worker", "--port", str(args.port)]
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *serve],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{args.port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    requests.get(f"{url}/login", timeout=1)
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            made = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "app.cli",
                    "tokens",
                    "create",
                    "ana.lopez@riverbend.example",
                ],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            token = made.stdout.strip().splitlines()[-1]
            headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
            worker = web_worker_pid(server.pid)
            print(f"{args.gib:g} GiB to {url}, web worker pid {worker}")
            print("mode                    seconds     MB/s  RSS before  RSS peak   growth")
            for name, chunk in (("8 MiB PATCHes", 8 * 1024 * 1024), ("one request", None)):
                before = rss_kib(worker)
                sampler = PeakSampler(worker)
                sampler.start()
                seconds = upload(url, headers, size, chunk)
                sampler.running = False
                sampler.join()
                mbps = size / seconds / 1e6
                growth = (sampler.peak - before) / 1024
                peak = sampler.peak / 1024
                print(
                    f"{name:<22} {seconds:8.1f} {mbps:8.0f} {before / 1024:9.0f}MB "
                    f"{peak:7.0f}MB {growth:6.0f}MB"
                )
            print("targets: >= 200 MB/s, memory growth flat (~150 MB at most for 5 GB)")
        finally:
            os.killpg(server.pid, signal.SIGINT)
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
