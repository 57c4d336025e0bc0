"""Loupe: video coaching for teachers."""

from __future__ import annotations

import importlib
import logging
import mimetypes
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from app.core.config import Config


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # Several processes share the embedded database: WAL lets readers proceed during writes
    # and busy_timeout makes writers wait for each other instead of failing.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        # With WAL, NORMAL syncs at checkpoints instead of every commit: the database cannot
        # corrupt, and a power cut loses at most the last moments (SQLite's recommended pair).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


event.listen(Engine, "connect", _sqlite_pragmas)

for _type, _ext in (
    ("application/vnd.apple.mpegurl", ".m3u8"),
    ("video/iso.segment", ".m4s"),
    ("video/mp2t", ".ts"),
    ("text/vtt", ".vtt"),
    ("video/mp4", ".mp4"),
    ("image/jpeg", ".jpg"),
    ("application/json", ".json"),
):
    mimetypes.add_type(_type, _ext)


def quiet_webrtc_logs() -> None:
    """Keep aiortc's and aioice's per-candidate chatter out of the logs."""
    for name in ("aioice", "aiortc"):
        logging.getLogger(name).setLevel(logging.WARNING)


# What the factory loads for its effects: every model (its table on the metadata), every job
# (its task declared) and the handlers that add routes to core's shared `api` and `web`
# blueprints (before those are registered).
LOADED_FOR_EFFECT = (
    "app.core.audit_models",
    "app.accounts.models",
    "app.lessons.models",
    "app.frameworks.models",
    "app.feedback.models",
    "app.debriefs.models",
    "app.live.models",
    "app.accounts.jobs",
    "app.lessons.jobs",
    "app.debriefs.jobs",
    "app.live.jobs",
    "app.accounts.api",
    "app.lessons.api",
    "app.accounts.views",
    "app.lessons.views",
    "app.frameworks.views",
    "app.feedback.views",
    "app.debriefs.views",
    "app.live.views",
)


def create_app(config: Config | None = None) -> Flask:
    """Build the Flask app: bind the extensions, register the blueprints, nothing else."""
    # Imported here, not at the top: every `import app.<module>` runs this file first, and a
    # package that loaded every feature on import would make each feature load all the others.
    from app.accounts.security import init_security
    from app.core.error_handlers import init_errors
    from app.core.extensions import (
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
        socketio,
    )
    from app.core.numbers import IdConverter
    from app.core.openapi import bp as api_bp
    from app.core.pages import bp as web_bp
    from app.core.socket_queue import socketio_options
    from app.core.storage import LocalStorage
    from app.core.tasks import init_celery
    from app.debriefs.api import bp as debriefs_bp
    from app.feedback.api import bp as annotations_bp
    from app.frameworks.api import bp as frameworks_bp
    from app.lessons import events as handlers
    from app.lessons.media import bp as media_bp
    from app.lessons.tus import bp as uploads_bp
    from app.live.api import bp as live_bp

    for module in LOADED_FOR_EFFECT:
        importlib.import_module(module)

    app = Flask(__name__, static_folder="../static", static_url_path="/static")
    app.config.from_object(config or Config())
    # Before any blueprint: every `<int:…>` route takes only a possible id (others are 404s).
    app.url_map.converters["int"] = IdConverter
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_webrtc_logs()

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    socketio.init_app(app, **socketio_options(app.config))
    handlers.register()
    init_celery(app)
    app.extensions["loupe.storage"] = LocalStorage(app.config["MEDIA_DIR"])
    if hops := app.config["PROXY_HOPS"]:
        # Client addresses (audit, login rate limit) and scheme come from the trusted proxies.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    init_security(app)
    init_errors(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(uploads_bp)
    app.register_blueprint(frameworks_bp)
    app.register_blueprint(annotations_bp)
    app.register_blueprint(debriefs_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(web_bp)
    return app
