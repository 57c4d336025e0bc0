"""Unbound extensions, bound to an app by create_app()."""

from __future__ import annotations

from typing import Any

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
socketio = SocketIO()


def socketio_options(config: dict[str, Any]) -> dict[str, Any]:
    """Return the Socket.IO server options: threading mode and the message queue for the config."""
    from app.core.socket_queue import message_queue_manager

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
