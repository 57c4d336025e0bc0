"""Enqueue a background job by its task name with ids as arguments, so no service imports a job.

The task is found in the Celery app of the current Flask app, so the queue and limits it
declares apply, and `task_always_eager` runs it at once. May use Flask and Celery only.
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def enqueue(name: str, *args: Any) -> None:
    """Queue the job called `name` (after the caller committed the rows it will read)."""
    celery = current_app.extensions["celery"]
    celery.tasks[name].apply_async(args=args)
