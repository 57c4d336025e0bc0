"""Per-account backoff after failed sign-ins, kept in the rate limiter's storage (Redis or memory).

Keyed by the email as typed (normalised), whether or not an account has it, so the answers never
tell which emails exist. May use: config, extensions.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import current_app
from limits.storage import Storage

from app.core.errors import TooManyAttempts
from app.core.extensions import limiter


def _storage() -> Storage:
    return limiter.storage


def _keys(email: str) -> tuple[str, str]:
    # Hashed so the shared storage holds no email addresses.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"loupe/login-failures/{digest}", f"loupe/login-refused/{digest}"


def check(email: str) -> None:
    """Raise TooManyAttempts while sign-ins for this email are refused."""
    _failures, refused = _keys(email)
    if _storage().get(refused) > 0:
        wait = max(1, math.ceil(_storage().get_expiry(refused) - time.time()))
        minutes = math.ceil(wait / 60)
        when = f"{minutes} minutes" if minutes > 1 else "a minute"
        raise TooManyAttempts(
            f"Too many failed sign-ins for this email. Try again in {when}.",
            retry_after=wait,
            field="email",
        )


def backoff_seconds(failures: int) -> int:
    """Return how long to refuse an email after this many failures in a row (0: not yet)."""
    config = current_app.config
    over = failures - int(config["LOGIN_ACCOUNT_FAILURES"])
    if over < 0:
        return 0
    # The exponent is bounded so a long series stays a small number; the cap does the rest.
    return int(min(config["LOGIN_BACKOFF_S"] * 2 ** min(over, 30), config["LOGIN_BACKOFF_MAX_S"]))


def failed(email: str) -> None:
    """Count a failed sign-in for this email, refusing it for a while once there are too many."""
    failures_key, refused = _keys(email)
    failures = _storage().incr(failures_key, int(current_app.config["LOGIN_FAILURE_MEMORY_S"]))
    if wait := backoff_seconds(failures):
        _storage().clear(refused)
        _storage().incr(refused, wait)


def succeeded(email: str) -> None:
    """End the series of failures for this email."""
    for key in _keys(email):
        _storage().clear(key)
