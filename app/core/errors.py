"""Errors the domain raises; the HTTP and Socket.IO layers turn them into answers."""

from __future__ import annotations

from pydantic import ValidationError


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(ServiceError):
    """The input is wrong; `field` names the part to fix."""

    status = 400

    @classmethod
    def from_validation(cls, exc: ValidationError) -> Invalid:
        """Return the first problem pydantic found, naming the field by its path."""
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        message = str(first["msg"]).removeprefix("Value error, ")
        return cls(f"{where}: {message}", field=where)


class NotFound(ServiceError):
    """The object does not exist, or the caller may not know that it does."""

    status = 404

    def __init__(self, message: str = "Not found") -> None:
        super().__init__(message)


class Forbidden(ServiceError):
    """The caller sees the object but may not do this to it."""

    status = 403


class Conflict(ServiceError):
    """The request clashes with the current state."""

    status = 409


class TooManyAttempts(ServiceError):
    """Refused for a while; `retry_after` says how many seconds (sent as Retry-After)."""

    status = 429

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class Unavailable(ServiceError):
    """A service Loupe relies on (the recording gateway) did not answer."""

    status = 503


def from_status(status: int, message: str) -> ServiceError:
    """Return the domain error for the HTTP status another service answered with."""
    if status == 404:
        return NotFound(message)
    kinds: dict[int, type[ServiceError]] = {
        400: Invalid,
        403: Forbidden,
        409: Conflict,
        503: Unavailable,
    }
    error = kinds.get(status, ServiceError)(message)
    error.status = status
    return error
