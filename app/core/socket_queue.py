"""The Socket.IO message queue: Redis when configured, otherwise a folder on local disk.

Both managers close a person's room of a thing (`video:5:user:7`, `debrief:3:user:7`) the same
way in every process: the sockets of that room held here leave every room of that thing, so
closing one room (propagated by python-socketio to all processes) takes a person out entirely.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import socketio
from kombu.entity import Queue

from app.core.realtime import person_of


class EvictingManager:
    """Make closing a person's room take their sockets out of every room of the same thing."""

    rooms: dict[str, dict[str | None, Any]]

    def _handle_close_room(self, message: dict[str, Any]) -> None:
        room, namespace = message.get("room"), message.get("namespace") or "/"
        person = person_of(room) if isinstance(room, str) else None
        if person is not None:
            prefix = person[0]
            held = self.rooms.get(namespace, {})
            sids = list(held.get(room, ()))
            things = [r for r in held if isinstance(r, str) and r.startswith(prefix)]
            for other in things:
                for sid in sids:
                    # Removes nothing (no error) when the socket is not in that room.
                    self.basic_leave_room(sid, namespace, other)  # type: ignore[attr-defined]
        super()._handle_close_room(message)  # type: ignore[misc]


class FolderQueueManager(EvictingManager, socketio.KombuManager):  # type: ignore[misc]
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


class RedisQueueManager(EvictingManager, socketio.RedisManager):  # type: ignore[misc]
    """Carry Socket.IO events between the processes of several machines through Redis."""


def message_queue_manager(config: dict[str, Any]) -> socketio.PubSubManager:
    """Return the client manager every process publishes through."""
    if config.get("REDIS_URL"):
        return RedisQueueManager(config["REDIS_URL"], channel="loupe-events")
    return FolderQueueManager(Path(config["EVENTS_DIR"]))


def socketio_options(config: dict[str, Any]) -> dict[str, Any]:
    """Return the Socket.IO server options: threading mode and the message queue for the config."""
    options: dict[str, Any] = {
        "async_mode": "threading",
        "client_manager": message_queue_manager(config),
        # Only our own origin may open a socket (engine.io compares Origin with Host);
        # behind a proxy the public URL is the one allowed origin.
        "cors_allowed_origins": [config["PUBLIC_URL"]] if config.get("PUBLIC_URL") else None,
        "manage_session": False,
        "max_http_buffer_size": 256 * 1024,
    }
    return options
