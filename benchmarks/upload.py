"""Measure tus upload throughput on loopback and the web process's memory growth.

Starts `loupe serve --no-worker` on a throwaway data folder, then uploads SIZE bytes twice:
in 8 MiB PATCH requests, and as one streamed request. Prints MB/s and the web worker's
resident memory before, at peak, and its growth. Run by hand:

    .venv/bin/python benchmarks/upload.py [--gib 2]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from harness import proc_stats, serve

BLOCK = os.urandom(8 * 1024 * 1024)  # repeated, so the client side costs no disk or memory


def rss_kib(pid: int) -> int:
    """Return the resident memory of a process in KiB."""
    return proc_stats(pid)[1]


def web_worker_pid(server_pid: int) -> int:
    """Return gunicorn's worker process (the child serving requests, not the rtc gateway)."""
    for child in Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split():
        if b"app.cli\x00serve" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
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
    with serve(
        args.port, prefix="loupe-upload-bench-", LOUPE_USER_QUOTA_BYTES=str(10 * size)
    ) as server:
        url = server.url
        from app import create_app
        from app.accounts import service as accounts
        from app.accounts import tokens as api_tokens

        with create_app().app_context():
            ana = accounts.find_user_by_email("ana.lopez@riverbend.example")
            assert ana is not None
            token = api_tokens.create_api_token(ana, "benchmark")[1]
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


if __name__ == "__main__":
    main()
