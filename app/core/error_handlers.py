"""Turn every error into a clear answer: JSON under /api and /media, a page elsewhere."""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.core.errors import ServiceError, TooManyAttempts
from app.core.extensions import db, limiter

log = logging.getLogger("loupe.errors")


def _wants_json() -> bool:
    return (
        request.path.startswith(("/api/", "/media/"))
        or request.accept_mimetypes.best == "application/json"
    )


def _answer(status: int, message: str, field: str | None = None) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify(error=message, field=field), status
    return render_template("error.html", status=status, message=message), status


def _refusal(message: str, retry_after: int, field: str | None = None) -> tuple[Response, int]:
    """Answer 429 with the seconds to wait as Retry-After."""
    body, status = _answer(429, message, field)
    response = make_response(body, status)
    response.headers["Retry-After"] = str(retry_after)
    return response, status


def _limit_retry_after() -> int:
    """Return the seconds until the rate limit this request broke lets the client in again."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    return max(1, math.ceil(breached.reset_at - time.time()))


def init_errors(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError) -> tuple[Response | str, int]:
        db.session.rollback()
        if isinstance(exc, TooManyAttempts):
            return _refusal(exc.message, exc.retry_after, exc.field)
        return _answer(exc.status, exc.message, exc.field)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[Response | str, int]:
        return _answer(
            403,
            "Missing or invalid CSRF token. Reload the page; API clients send the csrf_token "
            "from /api/me as the X-CSRF-Token header, or use a Bearer token.",
            "X-CSRF-Token",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response | str, int] | HTTPException:
        if exc.code is None or exc.code < 400:
            return exc
        message = exc.description or exc.name
        if exc.code == 429:
            return _refusal("Too many attempts. Wait a minute and try again.", _limit_retry_after())
        response = _answer(exc.code, message)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            body, _status = response
            if isinstance(body, Response):
                body.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response | str, int]:
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _answer(500, InternalServerError.description)
