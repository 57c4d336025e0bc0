"""Health checks of the job system, run from the admin page."""

from __future__ import annotations

import os
import socket
import time

from celery import shared_task

from app.core.realtime import publish, user_room


@shared_task(name="loupe.system.ping", time_limit=30, ignore_result=True)
def ping(user_id: int, nonce: str) -> None:
    """Answer a health check: a worker took the job and can reach the user's browser."""
    publish(
        "system.pong",
        {"nonce": nonce, "worker": f"{socket.gethostname()}:{os.getpid()}", "at": time.time()},
        room=user_room(user_id),
    )
