"""Celery wired to the Flask app: tasks take ids and run inside an app context."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask

DEFAULT_QUEUE = "loupe"


class AppTask(Task):  # type: ignore[misc]
    """A task that runs inside the context of the Flask app its Celery app belongs to."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.app.flask_app.app_context():
            return self.run(*args, **kwargs)


def init_celery(app: Flask) -> Celery:
    """Give the Flask app its own Celery app (the current one), configured from its config.

    One Celery app per Flask app, with tasks declared by shared_task (the factory imports
    every feature's jobs): a process that builds several apps (tests, tools) never sends a
    job to another app's broker.
    """
    celery = Celery(app.import_name, task_cls=AppTask)
    celery.flask_app = app
    broker = app.config["BROKER_URL"]
    options: dict[str, Any] = {}
    if broker.startswith("redis"):
        # acks_late on Redis: an unacknowledged job returns to the queue after this long,
        # so it must exceed the longest job (a 60-minute lesson's transcode).
        options["visibility_timeout"] = 4 * 3600
    celery.conf.update(
        broker_url=broker,
        broker_transport_options=options,
        broker_connection_retry_on_startup=True,
        task_default_queue=DEFAULT_QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        worker_concurrency=app.config["WORKER_CONCURRENCY"],
        timezone="UTC",
        enable_utc=True,
        beat_schedule={
            "sweep-stalled-processing": {
                "task": "loupe.media.sweep",
                "schedule": float(app.config["SWEEP_INTERVAL_SECONDS"]),
            },
            "remove-expired-uploads": {
                "task": "loupe.uploads.remove_expired",
                "schedule": 3600.0,
            },
            "remove-leftover-recordings": {
                "task": "loupe.rtc.sweep_recordings",
                "schedule": 600.0,
            },
        },
        beat_schedule_filename=str(app.config["DATA_DIR"] / "celerybeat-schedule"),
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


@worker_process_init.connect
def _lower_priority(**_: Any) -> None:
    # Transcoding (ffmpeg inherits this) yields the CPU to web requests on the same machine.
    os.nice(10)
