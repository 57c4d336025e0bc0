"""Invitations: an administrator invites someone by email; the link's code creates the account.
May use the accounts service and core.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import (
    Invitation,
    User,
)
from app.accounts.service import (
    find_user_by_email,
    hash_password,
    normalise_email,
    parse_role,
    token_digest,
)
from app.core import audit, policy
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.extensions import db

INVITATION_DAYS = 14


def invite(actor: User, email: str, role: str) -> tuple[Invitation, str]:
    """Invite a person to the admin's district; returns the invitation and its secret link code."""
    if not policy.may_manage_district(actor, actor.organization_id):
        raise Forbidden("Only an administrator can invite people.")
    email = normalise_email(email)
    new_role = parse_role(role)
    if find_user_by_email(email):
        raise Conflict("An account with this email exists.", field="email")
    code = secrets.token_urlsafe(24)
    invitation = Invitation(
        organization_id=actor.organization_id,
        email=email,
        role=new_role,
        token_hash=token_digest(code),
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
        select(Invitation).where(Invitation.token_hash == token_digest(code))
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
