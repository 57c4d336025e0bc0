"""Personal API tokens: created (shown once), looked up by their digest, listed and revoked. May
use the accounts service and core.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import (
    ApiToken,
    User,
)
from app.accounts.service import TOKEN_PREFIX, token_digest
from app.core import audit
from app.core.db import utcnow
from app.core.errors import Invalid, NotFound
from app.core.extensions import db


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token; the plain token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise Invalid(
            "Give the token a name, such as the script or software using it.", field="name"
        )
    if len(name) > 100:
        raise Invalid("Token names are at most 100 characters.", field="name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=raw[:12], token_hash=token_digest(raw))
    db.session.add(token)
    db.session.flush()
    audit.record("token.created", actor=user, object_type="api_token", object_id=token.id)
    db.session.commit()
    return token, raw


def user_for_api_token(raw: str) -> User | None:
    """Return the active owner of an unrevoked token, or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.token_hash == token_digest(raw))
    ).first()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    # Written at most once a minute, so scripts polling the API do not write on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        db.session.commit()
    return token.user


def list_api_tokens(user: User) -> list[ApiToken]:
    """Return the user's tokens, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_api_token(user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("token.revoked", actor=user, object_type="api_token", object_id=token.id)
        db.session.commit()
