"""People: passwords, logins, API tokens, invitations, caseloads and districts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.accounts import login_attempts
from app.accounts.models import (
    ApiToken,
    CoachAssignment,
    Invitation,
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
from app.frameworks.models import Framework, FrameworkStatus
from app.lessons.models import Video

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
INVITATION_DAYS = 14


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


def _role(raw: object) -> Role:
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


def _end_all_login_sessions(user: User, keep: str | None = None) -> None:
    for login in db.session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    ):
        if login.id != keep:
            login.ended_at = utcnow()


def _revoke_all_api_tokens(user: User) -> int:
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
    role = _role(role)
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


def _managed_user(actor: User, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not policy.may_manage_district(actor, user.organization_id):
        raise NotFound("No such person in your district.")
    return user


def set_active(actor: User, user_id: int, active: bool) -> User:
    """Activate or deactivate an account; deactivation ends its sessions at once."""
    user = _managed_user(actor, user_id)
    if user.id == actor.id and not active:
        raise Invalid("You cannot deactivate your own account.", field="active")
    # Every lesson they may watch now is a lesson whose open channels may have to close.
    watched = [] if active else [v.id for v in db.session.scalars(policy.visible_videos(user))]
    user.active = active
    if not active:
        _end_all_login_sessions(user)
        _revoke_all_api_tokens(user)
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
    user = _managed_user(actor, user_id)
    new_role = _role(role)
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
    _end_all_login_sessions(user, keep=keep_session)
    revoked = _revoke_all_api_tokens(user) if revoke_tokens else 0
    audit.record(
        "user.password_changed",
        actor=user,
        object_type="user",
        object_id=user.id,
        tokens_revoked=revoked,
    )
    db.session.commit()
    return revoked


# --- password resets by an administrator ------------------------------------------------------

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
    user = _managed_user(actor, user_id)
    if user.id == actor.id:
        raise Invalid("Change your own password on your account page.", field="user_id")
    user.password_hash = _RESET_MARK + secrets.token_hex(16)
    _end_all_login_sessions(user)
    revoked = _revoke_all_api_tokens(user)
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


# --- API tokens -------------------------------------------------------------------------------


def _token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


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
    token = ApiToken(user_id=user.id, name=name, prefix=raw[:12], token_hash=_token_digest(raw))
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
        select(ApiToken).where(ApiToken.token_hash == _token_digest(raw))
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


# --- invitations ------------------------------------------------------------------------------


def invite(actor: User, email: str, role: str) -> tuple[Invitation, str]:
    """Invite a person to the admin's district; returns the invitation and its secret link code."""
    if not policy.may_manage_district(actor, actor.organization_id):
        raise Forbidden("Only an administrator can invite people.")
    email = normalise_email(email)
    new_role = _role(role)
    if find_user_by_email(email):
        raise Conflict("An account with this email exists.", field="email")
    code = secrets.token_urlsafe(24)
    invitation = Invitation(
        organization_id=actor.organization_id,
        email=email,
        role=new_role,
        token_hash=_token_digest(code),
        invited_by_id=actor.id,
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "invitation.created",
        actor=actor,
        object_type="invitation",
        object_id=invitation.id,
        role=new_role.value,
    )
    db.session.commit()
    return invitation, code


def open_invitation(code: str) -> Invitation:
    """Return the pending invitation behind a link code, or raise NotFound."""
    invitation = db.session.scalars(
        select(Invitation).where(Invitation.token_hash == _token_digest(code))
    ).first()
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at < utcnow()
    ):
        raise NotFound(
            "This invitation link is not valid any more. Ask your administrator for a new one."
        )
    return invitation


def accept_invitation(code: str, name: str, password: str) -> User:
    """Create the invited person's account."""
    invitation = open_invitation(code)
    if not name.strip():
        raise Invalid("Please give your name.", field="name")
    if find_user_by_email(invitation.email):
        raise Conflict("An account with this email exists.", field="email")
    user = User(
        organization_id=invitation.organization_id,
        email=invitation.email,
        name=name.strip()[:200],
        role=invitation.role,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    invitation.accepted_at = utcnow()
    db.session.flush()
    audit.record(
        "invitation.accepted", actor=user, object_type="invitation", object_id=invitation.id
    )
    db.session.commit()
    return user


def pending_invitations(actor: User) -> list[Invitation]:
    """Return the district's invitations still waiting for an answer."""
    if not policy.may_manage_district(actor, actor.organization_id):
        raise Forbidden("Only administrators see invitations.")
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.organization_id == actor.organization_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.id.desc())
        )
    )


def revoke_invitation(actor: User, invitation_id: int) -> None:
    """Withdraw a pending invitation."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not policy.may_manage_district(actor, invitation.organization_id):
        raise NotFound("No such invitation.")
    invitation.revoked_at = utcnow()
    audit.record(
        "invitation.revoked", actor=actor, object_type="invitation", object_id=invitation.id
    )
    db.session.commit()


# --- caseloads --------------------------------------------------------------------------------


def assign_coach(
    actor: User | None, coach: User, teacher: User, *, framework_id: int | None = None
) -> CoachAssignment:
    """Put a teacher on a coach's caseload (by an admin of their district, or the system).

    The framework, if named, is the one this relationship's feedback uses; assigning again
    changes it.
    """
    if actor is not None and not policy.may_manage_district(actor, coach.organization_id):
        raise Forbidden("Only an administrator of this district manages caseloads.")
    if coach.organization_id != teacher.organization_id:
        raise Invalid("Coach and teacher must belong to the same district.", field="teacher_id")
    if coach.role != Role.COACH:
        raise Invalid("Only coaches have caseloads.", field="coach_id")
    if teacher.role != Role.TEACHER:
        raise Invalid("Only teachers can be on a caseload.", field="teacher_id")
    existing = db.session.scalars(
        select(CoachAssignment).where(
            CoachAssignment.coach_id == coach.id, CoachAssignment.teacher_id == teacher.id
        )
    ).first()
    if framework_id is not None:
        framework = db.session.get(Framework, framework_id)
        if (
            framework is None
            or framework.organization_id != coach.organization_id
            or framework.status == FrameworkStatus.DRAFT
        ):
            raise Invalid("No such published framework in your district.", field="framework_id")
    if existing:
        if existing.framework_id != framework_id:
            existing.framework_id = framework_id
            db.session.commit()
        return existing
    assignment = CoachAssignment(
        coach_id=coach.id,
        teacher_id=teacher.id,
        created_by_id=actor.id if actor else None,
        framework_id=framework_id,
    )
    db.session.add(assignment)
    db.session.flush()
    audit.record(
        "assignment.created",
        actor=actor,
        object_type="coach_assignment",
        object_id=assignment.id,
        organization_id=coach.organization_id,
        coach_id=coach.id,
        teacher_id=teacher.id,
    )
    db.session.commit()
    return assignment


def unassign_coach(actor: User, assignment_id: int) -> None:
    """Take a teacher off a coach's caseload."""
    assignment = db.session.get(CoachAssignment, assignment_id)
    if assignment is None or not policy.may_manage_district(
        actor, assignment.coach.organization_id
    ):
        raise NotFound("No such assignment.")
    audit.record(
        "assignment.removed",
        actor=actor,
        object_type="coach_assignment",
        object_id=assignment.id,
        coach_id=assignment.coach_id,
        teacher_id=assignment.teacher_id,
    )
    coach_id, teacher_id = assignment.coach_id, assignment.teacher_id
    db.session.delete(assignment)
    db.session.commit()
    # Caseloads grant no lesson by themselves today; the re-check keeps that true if they do.
    access_shrank(
        db.session.scalars(select(Video.id).where(Video.owner_id == teacher_id)), [coach_id]
    )


def district_assignments(actor: User) -> list[CoachAssignment]:
    """Return every caseload entry of the admin's district."""
    if not policy.may_manage_district(actor, actor.organization_id):
        raise Forbidden("Only administrators see every caseload.")
    return list(
        db.session.scalars(
            select(CoachAssignment)
            .join(User, CoachAssignment.coach_id == User.id)
            .where(User.organization_id == actor.organization_id)
            .order_by(CoachAssignment.coach_id, CoachAssignment.teacher_id)
        )
    )


def caseload(coach: User) -> list[User]:
    """Return the teachers on a coach's caseload."""
    return list(
        db.session.scalars(
            select(User)
            .join(CoachAssignment, CoachAssignment.teacher_id == User.id)
            .where(CoachAssignment.coach_id == coach.id, User.active.is_(True))
            .order_by(func.lower(User.name))
        )
    )


def coaches_of(teacher: User) -> list[User]:
    """Return the coaches whose caseload includes the teacher."""
    return list(
        db.session.scalars(
            select(User)
            .join(CoachAssignment, CoachAssignment.coach_id == User.id)
            .where(CoachAssignment.teacher_id == teacher.id, User.active.is_(True))
            .order_by(func.lower(User.name))
        )
    )
