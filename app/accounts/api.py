"""JSON endpoints of accounts: sign-in and out, who is signed in, password resets, personal API
tokens, the job system check. Thin: parse, call a service, serialise (on core's `api` blueprint).
"""

from __future__ import annotations

import secrets

from flask import jsonify, url_for
from flask_wtf.csrf import generate_csrf

from app.accounts import passwords
from app.accounts import service as accounts
from app.accounts import tokens as api_tokens
from app.accounts.jobs import ping
from app.accounts.schemas import (
    LoginIn,
    MeOut,
    PasswordResetOut,
    PingOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserOut,
)
from app.accounts.security import (
    LOGIN_LIMIT_SCOPE,
    check_same_origin,
    csrf_exempt,
    end_session,
    login_rate_limit,
    signed_in_user,
    start_session,
)
from app.core import policy
from app.core.errors import Forbidden
from app.core.extensions import limiter
from app.core.openapi import Json, bp, operation
from app.core.schemas import OkOut


@operation(
    bp,
    "/auth/login",
    "POST",
    summary="Sign in; sets the session cookie",
    body=LoginIn,
    response=MeOut,
    auth=False,
    responses={
        401: "Wrong email or password",
        429: "Too many attempts from this client, or failed sign-ins for this email (Retry-After)",
    },
)
@csrf_exempt
@limiter.shared_limit(login_rate_limit, scope=LOGIN_LIMIT_SCOPE)
def login(body: LoginIn) -> Json:
    check_same_origin()
    user = accounts.authenticate(body.email, body.password)
    if user is None:
        return jsonify(error="Wrong email or password.", field=None), 401
    start_session(user)
    return jsonify(
        MeOut(**UserOut.of(user).model_dump(), csrf_token=generate_csrf()).model_dump(mode="json")
    )


@operation(bp, "/auth/logout", "POST", summary="Sign out", response=OkOut)
def logout() -> Json:
    end_session()
    return jsonify(OkOut().model_dump())


@operation(bp, "/me", "GET", summary="Who is signed in", response=MeOut)
def me() -> Json:
    user = signed_in_user()
    return jsonify(
        MeOut(**UserOut.of(user).model_dump(), csrf_token=generate_csrf()).model_dump(mode="json")
    )


@operation(
    bp,
    "/admin/users/<int:user_id>/password-reset",
    "POST",
    summary="Reset a person's password (district administrators): their sessions and API "
    "tokens end, and the answer holds a one-time link to choose a new one",
    response=PasswordResetOut,
    responses={400: "Your own password (change it on your account page)", 404: "No such person"},
)
def reset_password(user_id: int) -> Json:
    user, code = passwords.reset_password(signed_in_user(), user_id)
    return jsonify(
        PasswordResetOut(
            user=UserOut.of(user),
            reset_url=url_for("web.password_reset", code=code, _external=True),
            expires_in_days=passwords.RESET_DAYS,
        ).model_dump(mode="json")
    )


@operation(bp, "/tokens", "GET", summary="Your personal API tokens", response=TokenOut, many=True)
def list_tokens() -> Json:
    return jsonify(
        [
            TokenOut.of(t).model_dump(mode="json")
            for t in api_tokens.list_api_tokens(signed_in_user())
        ]
    )


@operation(
    bp,
    "/tokens",
    "POST",
    summary="Create a personal API token (shown once)",
    body=TokenIn,
    response=TokenCreatedOut,
    status=201,
)
def create_token(body: TokenIn) -> Json:
    token, raw = api_tokens.create_api_token(signed_in_user(), body.name)
    return jsonify(
        TokenCreatedOut(**TokenOut.of(token).model_dump(), token=raw).model_dump(mode="json")
    ), 201


@operation(bp, "/tokens/<int:token_id>", "DELETE", summary="Revoke one of your tokens", status=204)
def revoke_token(token_id: int) -> Json:
    api_tokens.revoke_api_token(signed_in_user(), token_id)
    return "", 204


@operation(
    bp,
    "/system/ping",
    "POST",
    summary="Send a health-check job; a worker answers over Socket.IO (system.pong)",
    response=PingOut,
    status=202,
)
def system_ping() -> Json:
    user = signed_in_user()
    if not policy.may_manage_district(user, user.organization_id):
        raise Forbidden("Only administrators check the job system.")
    nonce = secrets.token_urlsafe(8)
    ping.delay(user.id, nonce)
    return jsonify(PingOut(nonce=nonce).model_dump()), 202
