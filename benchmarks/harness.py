"""What the benchmarks share: a real `loupe serve` on a throwaway folder, signed-in sessions,
and a process's CPU time and memory read from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.demo import DEMO_PASSWORD  # noqa: E402 - after the path is set


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    gateway: str  # the rtc gateway's base URL


@contextmanager
def serve(port: int, *, prefix: str, **env: str) -> Iterator[Server]:
    """Run `loupe serve --demo --no-worker` (web, Socket.IO, rtc gateway) until the block ends."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        # Set in this process too, so create_app() here reaches the same database and folder.
        os.environ.update(
            LOUPE_DATA_DIR=tmp, LOUPE_DEMO_LESSONS="0", LOUPE_RTC_PORT=str(port + 1), **env
        )
        command = [sys.executable, "-m", "app.cli", "serve", "--demo", "--no-worker", "--port"]
        process = subprocess.Popen(
            [*command, str(port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        server = Server(f"http://127.0.0.1:{port}", process.pid, f"http://127.0.0.1:{port + 1}")
        try:
            deadline = time.monotonic() + 60
            for probe in (f"{server.url}/login", f"{server.gateway}/v1/health"):
                while True:
                    try:
                        requests.get(probe, timeout=1)
                        break
                    except requests.ConnectionError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)  # waiting for the processes to listen
            yield server
        finally:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=60)
            os.environ.clear()
            os.environ.update(saved)


def session(url: str, email: str) -> requests.Session:
    """Return an HTTP session signed in as a demo person, with the CSRF header set."""
    http = requests.Session()
    answer = http.post(f"{url}/api/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    answer.raise_for_status()
    http.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return http


def proc_stats(pid: int) -> tuple[float, int]:
    """Return (CPU seconds, resident KiB) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    return cpu, rss


def gateway_pid(server_pid: int) -> int:
    """Return the pid of the rtc gateway that `loupe serve` started."""
    for child in Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split():
        if b"rtc-gateway" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    raise RuntimeError("no rtc-gateway process")
