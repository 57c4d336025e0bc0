"""Password resets by an administrator: a one-time link that lets a person choose a new password.
May use the accounts service and core.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from app.accounts.models import (
    User,
)
from app.accounts.service import (
    end_all_login_sessions,
    hash_password,
    managed_user,
    revoke_all_api_tokens,
)
from app.core import audit
from app.core.errors import Invalid, NotFound
from app.core.extensions import db

RESET_DAYS = 3


_RESET_SALT = "loupe.password-reset"


# Not an argon2 hash, so no password matches it until the person chooses a new one.
_RESET_MARK = "reset:"


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT)


def _password_fingerprint(user: User) -> str:
    # The link is bound to the password state it was made for: once a new password is set
    # (or another reset made), the fingerprint changes and the link is dead, so it works once.
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:24]


def reset_password(actor: User, user_id: int) -> tuple[User, str]:
    """Reset a person's password by an administrator: every session and token of theirs ends.

    Returns the person and the secret code of a one-time link to choose a new password.
    """
    user = managed_user(actor, user_id)
    if user.id == actor.id:
        raise Invalid("Change your own password on your account page.", field="user_id")
    user.password_hash = _RESET_MARK + secrets.token_hex(16)
    end_all_login_sessions(user)
    revoked = revoke_all_api_tokens(user)
    audit.record(
        "user.password_reset",
        actor=actor,
        object_type="user",
        object_id=user.id,
        tokens_revoked=revoked,
    )
    db.session.commit()
    code = _reset_serializer().dumps({"u": user.id, "p": _password_fingerprint(user)})
    return user, code


def open_password_reset(code: str) -> User:
    """Return the person a reset link code is for, or raise NotFound if it is not valid."""
    gone = NotFound(
        "This password link is not valid any more. Ask your administrator for a new one."
    )
    try:
        data = _reset_serializer().loads(code, max_age=RESET_DAYS * 24 * 3600)
    except BadData as exc:
        raise gone from exc
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("p") != _password_fingerprint(user):
        raise gone
    return user


def complete_password_reset(code: str, password: str) -> User:
    """Set the new password chosen through a reset link (which then stops working)."""
    user = open_password_reset(code)
    user.password_hash = hash_password(password)
    audit.record("user.password_reset_completed", actor=user, object_type="user", object_id=user.id)
    db.session.commit()
    return user
