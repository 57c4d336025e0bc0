"""Named locks shared by the processes of one site: a file lock, or Redis when configured."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import redis
from flask import current_app

LEASE_S = 60  # a Redis lock outlives a crashed holder by at most this long
WAIT_S = 10.0


class Held(Protocol):
    """A lock being held; long holders call refresh() now and then."""

    def refresh(self) -> None:
        """Keep the lock while work goes on."""
        ...


class Busy(Exception):
    """The lock stayed taken for the whole wait."""


class _FileHeld:
    def refresh(self) -> None:
        pass  # the kernel holds a flock for as long as the descriptor is open


class _RedisHeld:
    def __init__(self, lock: redis.lock.Lock) -> None:
        self.lock = lock
        self.refreshed = time.monotonic()

    def refresh(self) -> None:
        if time.monotonic() - self.refreshed > LEASE_S / 3:
            self.lock.reacquire()
            self.refreshed = time.monotonic()


@contextmanager
def named_lock(name: str, wait_s: float = WAIT_S) -> Iterator[Held]:
    """Hold the site-wide lock called name, waiting up to wait_s for it (else raise Busy)."""
    url = current_app.config.get("REDIS_URL")
    if url:
        client = redis.Redis.from_url(url)
        lock = client.lock(f"loupe:lock:{name}", timeout=LEASE_S, blocking_timeout=wait_s)
        if not lock.acquire():
            raise Busy(name)
        try:
            yield _RedisHeld(lock)
        finally:
            # If the lease ran out, nobody else can have relied on the lock being ours.
            with contextlib.suppress(redis.exceptions.LockError):
                lock.release()
        return
    folder = current_app.config["DATA_DIR"] / "locks"
    folder.mkdir(exist_ok=True)
    fd = os.open(folder / f"{name}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Busy(name) from None
                time.sleep(0.05)  # waiting for another process to release the lock
        yield _FileHeld()
    finally:
        os.close(fd)
