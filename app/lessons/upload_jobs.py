"""Periodic upkeep of resumable uploads."""

from __future__ import annotations

import logging

from celery import shared_task

from app.lessons import uploads

log = logging.getLogger("loupe.jobs.uploads")


@shared_task(name="loupe.uploads.remove_expired", ignore_result=True, time_limit=600)
def remove_expired_uploads() -> int:
    """Delete the bytes of uploads abandoned past their expiry."""
    removed = uploads.remove_expired()
    if removed:
        log.info("removed %d abandoned uploads", removed)
    return removed
