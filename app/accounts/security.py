"""Who is asking: session cookies, API tokens, CSRF, idle timeout, login rate limit, headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import Forbidden, Unauthorized

from app.accounts import service as accounts
from app.accounts import tokens as api_tokens
from app.accounts.models import User
from app.core import audit
from app.core.extensions import csrf, login_manager

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; style-src 'self'; script-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


def signed_in_user() -> User:
    """Return the person the request is signed in as (callers have checked that someone is)."""
    user: User = current_user._get_current_object()
    return user


def csrf_exempt(view: F) -> F:
    """Mark a view that checks its origin itself instead of a CSRF token (the login API)."""
    view._loupe_csrf_exempt = True  # type: ignore[attr-defined]
    return view


def streams_body(view: F) -> F:
    """Mark a view that streams large request bodies itself (tus uploads), past the 1 MiB cap."""
    view._loupe_streams_body = True  # type: ignore[attr-defined]
    return view


def large_body(limit: int) -> Callable[[F], F]:
    """Allow a view a JSON body larger than the 1 MiB default (a whole document import)."""

    def mark(view: F) -> F:
        view._loupe_max_body = limit  # type: ignore[attr-defined]
        return view

    return mark


# The page and the API sign-in count against one limit per client address.
LOGIN_LIMIT_SCOPE = "login"


def login_rate_limit() -> str:
    """Return the configured limit on login attempts per client address."""
    return str(current_app.config["LOGIN_RATE_LIMIT"])


# Kept as they are in a path, query or fragment; everything else (spaces, controls, non-ASCII)
# is percent-encoded so the Location header is plain ASCII that no browser reads as a host.
_URL_SAFE = "/%:@!$&'()*+,;=-._~?"


def _is_local_path(parts: tuple[str, str, str, str, str]) -> bool:
    scheme, netloc, path, _query, _fragment = parts
    return not scheme and not netloc and path.startswith("/") and not path.startswith("//")


def local_redirect_target(target: object, fallback: str) -> str:
    """Return `target` as a path on this site, or `fallback` if it could lead anywhere else."""
    if not isinstance(target, str) or len(target) > 2000:
        return fallback
    # Parsed as a browser reads it: a backslash counts as a slash, and urlsplit drops tabs and
    # newlines anywhere (so "/\t/evil" becomes "//evil", which has a host and is refused).
    parts = urlsplit(target.replace("\\", "/"))
    if not _is_local_path(parts):
        return fallback
    location = urlunsplit(
        ("", "", *(quote(part, safe=_URL_SAFE) for part in parts[2:]))  # path, query, fragment
    )
    # What is sent is parsed once more: it must itself read as a path on this site.
    return location if _is_local_path(urlsplit(location)) else fallback


def check_same_origin() -> None:
    """Refuse a browser request sent from another site's page."""
    origin = request.headers.get("Origin")
    if origin is None:  # not sent by a browser page, so not a cross-site request
        return
    allowed = {request.host_url.rstrip("/")}
    if current_app.config.get("PUBLIC_URL"):
        allowed.add(str(current_app.config["PUBLIC_URL"]).rstrip("/"))
    parts = urlsplit(origin)
    if f"{parts.scheme}://{parts.netloc}" not in allowed:
        raise Forbidden("Requests from other sites are refused.")


def start_session(user: User) -> None:
    """Sign the user in with a fresh session (a new cookie and CSRF token at every login)."""
    session.clear()
    login = accounts.open_login_session(user, request.remote_addr, request.user_agent.string)
    login_user(user)
    session["sid"] = login.id
    session.permanent = True


def end_session() -> None:
    """Sign out: end the login session on the server and drop the cookie's contents."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    accounts.end_login_session(session.get("sid"), user)
    logout_user()
    session.clear()


def current_session_id() -> str | None:
    """Return the id of the request's login session."""
    sid = session.get("sid")
    return sid if isinstance(sid, str) else None


def _load_user(user_id: str) -> User | None:
    # The cookie alone is not enough: its login session must still be live on the server.
    return accounts.resume_login_session(
        session.get("sid"), user_id, current_app.config["PERMANENT_SESSION_LIFETIME"]
    )


def signed_in(view: F) -> F:
    """Require a signed-in person for a page (others are sent to the sign-in form)."""
    wrapped: F = login_required(view)
    return wrapped


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def _before_request() -> None:
    audit.set_client_address(request.remote_addr)
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "_loupe_streams_body", False):
        # Raised before anything (the CSRF check included) touches the body and applies the cap.
        request.max_content_length = int(current_app.config["UPLOAD_MAX_BYTES"]) + 1
    elif larger := getattr(view, "_loupe_max_body", None):
        request.max_content_length = int(larger)
    raw = _bearer_token()
    if raw is not None:
        # A token request is that token's user alone: any cookie is ignored, none is created,
        # and no CSRF token is needed since browsers never send a bearer token on their own.
        user = api_tokens.user_for_api_token(raw)
        if user is None:
            raise Unauthorized("This API token is not valid, or has been revoked.")
        login_manager._update_request_context_with_user(user)
        g.auth_via_token = True
        return
    if request.method not in SAFE_METHODS:
        if getattr(view, "_loupe_csrf_exempt", False):
            return
        if getattr(view, "_loupe_auth_required", False) and not current_user.is_authenticated:
            return  # the view answers 401: signing in, not a CSRF token, is what is missing
        csrf.protect()


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self)"
    )
    if request.path.startswith(("/api/", "/media/")) or current_user.is_authenticated:
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def init_security(app: Flask) -> None:
    """Install the request hooks on the app."""
    login_manager.login_view = "web.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    app.before_request(_before_request)
    app.after_request(_security_headers)
