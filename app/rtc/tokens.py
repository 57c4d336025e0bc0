"""Short-lived tokens the web app signs so the gateway knows who may publish what."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "loupe.rtc.v1"
MAX_AGE_S = 60
SERVICE = "loupe-rtc"  # what a gateway's health check says it is, so a web app names a stranger
PROOF_SALT = b"loupe.rtc.health.v1:"
MAX_NONCE = 128


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


def prove(secret: str, nonce: str) -> str:
    """Return the gateway's answer to a health check's nonce: an HMAC only the secret makes."""
    return hmac.new(secret.encode(), PROOF_SALT + nonce.encode(), hashlib.sha256).hexdigest()


def is_proof(secret: str, nonce: str, proof: object) -> bool:
    """Answer whether proof is the answer to nonce of a gateway sharing the secret."""
    return isinstance(proof, str) and hmac.compare_digest(proof, prove(secret, nonce))
