"""Run the web app (HTTP and Socket.IO) in gunicorn's threaded worker."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class LoupeServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn with one process of many threads: Socket.IO's threading mode needs one process
    per message-queue consumer, and threads serve long-polling and WebSocket clients."""

    def __init__(self, app: Flask, host: str, port: int, threads: int = 64) -> None:
        self.flask_app = app
        self.options = {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 0,  # WebSockets stay open; gthread keeps time per connection itself
            "graceful_timeout": 5,
            "accesslog": "-",
            "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "loupe-web",
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.flask_app
