"""Fixtures and helpers shared by the lessons tests: a tus client and API tokens."""

from __future__ import annotations

import base64
from typing import Any

from flask.testing import FlaskClient

from app.accounts import service as accounts
from app.accounts import tokens as api_tokens
from tests.conftest import LiveServer

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Tus:
    """A signed-in tus client on the Flask test client (cookie + CSRF header)."""

    def __init__(self, client: FlaskClient, csrf: str) -> None:
        self.client = client
        self.headers = {**TUS, "X-CSRF-Token": csrf}

    def create(self, length: int, meta: str | None = None, **extra: str) -> Any:
        headers = {**self.headers, "Upload-Length": str(length), **extra}
        if meta is not None:
            headers["Upload-Metadata"] = meta
        return self.client.post("/api/uploads/", headers=headers)

    def patch(self, url: str, offset: int, data: bytes, **extra: str) -> Any:
        headers = {**self.headers, "Upload-Offset": str(offset), **extra}
        return self.client.patch(url, data=data, headers=headers, content_type=OCTETS)

    def head(self, url: str) -> Any:
        return self.client.head(url, headers=self.headers)


def token_for(server: LiveServer, email: str) -> str:
    with server.app().app_context():
        user = accounts.find_user_by_email(email)
        assert user is not None
        return api_tokens.create_api_token(user, "tuspy")[1]
