"""People: passwords, logins and districts (invitations, caseloads, resets, tokens: beside it)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select

from app.accounts import login_attempts
from app.accounts.models import (
    ApiToken,
    LoginSession,
    Organization,
    Role,
    School,
    User,
)
from app.core import audit, policy
from app.core.access import access_shrank
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.frameworks import service as frameworks

_hashers: dict[tuple[int, int], PasswordHasher] = {}
_dummy_hashes: dict[tuple[int, int], str] = {}


def _hasher() -> PasswordHasher:
    """Return the argon2id hasher with the configured cost."""
    cost = (current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_KIB"])
    if cost not in _hashers:
        _hashers[cost] = PasswordHasher(time_cost=cost[0], memory_cost=cost[1])
        # Verified when no account matches, so a wrong email costs as long as a wrong password.
        _dummy_hashes[cost] = _hashers[cost].hash(secrets.token_urlsafe(16))
    return _hashers[cost]


def _dummy_hash() -> str:
    _hasher()
    return _dummy_hashes[
        (current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_KIB"])
    ]


MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "loupe_"  # noqa: S105  (a public marker that makes leaked tokens easy to scan for)


def normalise_email(raw: object, field: str = "email") -> str:
    """Return the email in canonical form, or raise Invalid naming the field."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("An email address is required.", field=field)
    try:
        valid = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid(f"Not a valid email address: {exc}", field=field) from exc
    return valid.normalized.lower()


def hash_password(password: str) -> str:
    """Return the argon2 hash of a password that meets the length rule."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    return _hasher().hash(password)


def parse_role(raw: object) -> Role:
    """Return the role a form or body names, or raise Invalid."""
    try:
        return Role(str(raw))
    except ValueError as exc:
        raise Invalid("Role must be teacher, coach or admin.", field="role") from exc


def find_user_by_email(email: str) -> User | None:
    """Return the account with this email, whatever its district."""
    return db.session.scalars(select(User).where(User.email == email.lower())).first()


def authenticate(email: str, password: str) -> User | None:
    """Return the active user these credentials belong to, or None (never saying why).

    Raises TooManyAttempts while this email is refused after repeated failures.
    """
    login_attempts.check(email)
    user = find_user_by_email(email) if email else None
    stored = user.password_hash if user and user.password_hash else _dummy_hash()
    try:
        _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        audit.record_now(
            "auth.login_failed",
            actor=None,
            object_type="user",
            object_id=user.id if user else None,
            organization_id=user.organization_id if user else None,
        )
        login_attempts.failed(email)
        return None
    if user is None or not user.active:
        login_attempts.failed(email)
        return None
    login_attempts.succeeded(email)
    if _hasher().check_needs_rehash(stored):
        user.password_hash = _hasher().hash(password)
    user.last_login_at = utcnow()
    audit.record("auth.login", actor=user, object_type="user", object_id=user.id)
    db.session.commit()
    return user


def open_login_session(user: User, ip: str | None, user_agent: str | None) -> LoginSession:
    """Start a login session for a signed-in person."""
    login = LoginSession(user_id=user.id, ip=ip, user_agent=(user_agent or "")[:300] or None)
    db.session.add(login)
    db.session.commit()
    return login


def resume_login_session(session_id: object, user_id: object, idle: timedelta) -> User | None:
    """Return the person of a live login session, ending it if it sat idle too long."""
    if not isinstance(session_id, str) or not str(user_id).isdigit():
        return None
    login = db.session.get(LoginSession, session_id)
    if login is None or login.ended_at is not None or login.user_id != int(str(user_id)):
        return None
    now = utcnow()
    if now - login.last_seen_at > idle:
        login.ended_at = now
        db.session.commit()
        return None
    if not login.user.active:
        return None
    # Written at most once a minute: enough for the idle timeout, cheap for busy pages.
    if now - login.last_seen_at > timedelta(minutes=1):
        login.last_seen_at = now
        db.session.commit()
    return login.user


def end_login_session(session_id: object, user: User | None) -> None:
    """End one login session (sign-out), auditing it."""
    login = db.session.get(LoginSession, session_id) if isinstance(session_id, str) else None
    if login is not None and login.ended_at is None:
        login.ended_at = utcnow()
    if user is not None:
        audit.record("auth.logout", actor=user, object_type="user", object_id=user.id)
    db.session.commit()


def end_all_login_sessions(user: User, keep: str | None = None) -> None:
    """End every open login session of the person (but `keep`)."""
    for login in db.session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    ):
        if login.id != keep:
            login.ended_at = utcnow()


def revoke_all_api_tokens(user: User) -> int:
    """Revoke every live token of the person; return how many there were."""
    tokens = list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
    )
    for token in tokens:
        token.revoked_at = utcnow()
    return len(tokens)


def create_organization(name: str, slug: str) -> Organization:
    """Create a district."""
    if not name.strip():
        raise Invalid("A district needs a name.", field="name")
    if db.session.scalars(select(Organization).where(Organization.slug == slug)).first():
        raise Conflict(f"A district with the short name {slug!r} exists.", field="slug")
    org = Organization(name=name.strip(), slug=slug)
    db.session.add(org)
    db.session.flush()
    audit.record(
        "organization.created",
        actor=None,
        object_type="organization",
        object_id=org.id,
        organization_id=org.id,
    )
    db.session.commit()
    frameworks.seed_builtins(org)
    return org


def create_school(organization: Organization, name: str) -> School:
    """Add a school to a district."""
    school = School(organization_id=organization.id, name=name)
    db.session.add(school)
    db.session.commit()
    return school


def create_user(
    *,
    actor: User | None,
    organization: Organization,
    email: str,
    role: str | Role,
    password: str | None,
    name: str | None = None,
    school: School | None = None,
) -> User:
    """Create an account; an admin does it in their district, or the system (actor None)."""
    if actor is not None and not policy.may_manage_district(actor, organization.id):
        raise Forbidden("Only an administrator of this district can add people.")
    email = normalise_email(email)
    role = parse_role(role)
    if find_user_by_email(email):
        raise Conflict("An account with this email exists.", field="email")
    user = User(
        organization_id=organization.id,
        school_id=school.id if school else None,
        email=email,
        name=(name or email.split("@")[0]).strip()[:200],
        role=role,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.created",
        actor=actor,
        object_type="user",
        object_id=user.id,
        organization_id=organization.id,
        role=role.value,
    )
    db.session.commit()
    return user


def managed_user(actor: User, user_id: int) -> User:
    """Return a person of the administrator's district, or raise NotFound."""
    user = db.session.get(User, user_id)
    if user is None or not policy.may_manage_district(actor, user.organization_id):
        raise NotFound("No such person in your district.")
    return user


def set_active(actor: User, user_id: int, active: bool) -> User:
    """Activate or deactivate an account; deactivation ends its sessions at once."""
    user = managed_user(actor, user_id)
    if user.id == actor.id and not active:
        raise Invalid("You cannot deactivate your own account.", field="active")
    # Every lesson they may watch now is a lesson whose open channels may have to close.
    watched = [] if active else [v.id for v in db.session.scalars(policy.visible_videos(user))]
    user.active = active
    if not active:
        end_all_login_sessions(user)
        revoke_all_api_tokens(user)
    audit.record(
        "user.activated" if active else "user.deactivated",
        actor=actor,
        object_type="user",
        object_id=user.id,
    )
    db.session.commit()
    access_shrank(watched, [user.id])
    return user


def set_role(actor: User, user_id: int, role: str) -> User:
    """Change a person's role in the district."""
    user = managed_user(actor, user_id)
    new_role = parse_role(role)
    if user.id == actor.id and new_role != Role.ADMIN:
        raise Invalid("You cannot remove your own administrator role.", field="role")
    old = user.role
    user.role = new_role
    audit.record(
        "user.role_changed",
        actor=actor,
        object_type="user",
        object_id=user.id,
        old=old.value,
        new=new_role.value,
    )
    db.session.commit()
    return user


def change_password(
    user: User,
    current: str,
    new: str,
    keep_session: str | None = None,
    *,
    revoke_tokens: bool,
) -> int:
    """Change one's own password; every other login session ends, and the tokens if chosen.

    Returns how many personal API tokens were revoked.
    """
    try:
        _hasher().verify(user.password_hash or _dummy_hash(), current)
    except (VerificationError, InvalidHashError) as exc:
        raise Invalid("The current password is not right.", field="current_password") from exc
    user.password_hash = hash_password(new)
    end_all_login_sessions(user, keep=keep_session)
    revoked = revoke_all_api_tokens(user) if revoke_tokens else 0
    audit.record(
        "user.password_changed",
        actor=user,
        object_type="user",
        object_id=user.id,
        tokens_revoked=revoked,
    )
    db.session.commit()
    return revoked


def district_users(actor: User) -> list[User]:
    """Return every person of the admin's district."""
    if not policy.may_manage_district(actor, actor.organization_id):
        raise Forbidden("Only administrators see the people of the district.")
    return list(
        db.session.scalars(
            select(User)
            .where(User.organization_id == actor.organization_id)
            .order_by(User.role, func.lower(User.name))
        )
    )


def token_digest(raw: str) -> str:
    """Return the digest a token or link code is stored and looked up by."""
    return hashlib.sha256(raw.encode()).hexdigest()
