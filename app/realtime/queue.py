"""The Socket.IO message queue: Redis when configured, otherwise a folder on local disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import socketio
from kombu.entity import Queue


class FolderQueueManager(socketio.KombuManager):  # type: ignore[misc]
    """Carry Socket.IO events between the processes of one machine through a folder.

    The embedded default runs one web process, so a single named queue is enough: Celery
    workers and CLI commands write event files, the web process reads and emits them.
    """

    name = "folder"

    def __init__(self, folder: Path, write_only: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "control").mkdir(exist_ok=True)
        options = {
            "transport_options": {
                "data_folder_in": str(folder),
                "data_folder_out": str(folder),
                "control_folder": str(folder / "control"),
                "polling_interval": 0.05,
            }
        }
        super().__init__(
            "filesystem://",
            channel="loupe-events",
            write_only=write_only,
            connection_options=options,
        )

    def _queue(self) -> Any:
        # A fixed name, unlike the per-process names of KombuManager: the folder transport
        # cannot expire queues, and per-process names would leave files for dead readers.
        return Queue("loupe-web", self._exchange(), durable=False)  # type: ignore[no-untyped-call]


def message_queue_manager(config: dict[str, Any]) -> socketio.PubSubManager:
    """Return the client manager every process publishes through."""
    if config.get("REDIS_URL"):
        return socketio.RedisManager(config["REDIS_URL"], channel="loupe-events")
    return FolderQueueManager(Path(config["EVENTS_DIR"]))
