"""Short-lived tokens the web app signs so the gateway knows who may publish what."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "loupe.rtc.v1"
MAX_AGE_S = 60


class TokenError(Exception):
    """The token is forged, for something else, or too old."""


def sign(secret: str, **claims: Any) -> str:
    """Return a token carrying the claims (e.g. debrief, user, act)."""
    return URLSafeTimedSerializer(secret, salt=SALT).dumps(claims)


def verify(secret: str, token: str, *, act: str, max_age: int = MAX_AGE_S) -> dict[str, Any]:
    """Return the token's claims if it is genuine, fresh and for this act."""
    try:
        claims = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError("The token has expired.") from exc
    except BadSignature as exc:
        raise TokenError("The token is not valid.") from exc
    if not isinstance(claims, dict) or claims.get("act") != act:
        raise TokenError("The token is for something else.")
    return claims
