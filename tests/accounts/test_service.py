"""District administration: people, roles, invitations and caseloads stay in the district."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask

from app.accounts import caseloads, invitations, passwords
from app.accounts import service as accounts
from app.accounts import tokens as api_tokens
from app.accounts.models import Invitation, LoginSession, Organization, Role, User
from app.core.audit_models import AuditChangeError, AuditEvent
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.extensions import db
from tests.conftest import PASSWORD


def test_only_admins_of_the_district_add_people(
    app: Flask, district: Callable[..., Organization], make_user: Callable[..., User]
) -> None:
    home, away = district("home"), district("away")
    admin, coach = make_user("admin", org=home), make_user("coach", org=home)
    made = accounts.create_user(
        actor=admin,
        organization=home,
        email="New@Home.example",
        role="teacher",
        password="long enough pw",
    )
    assert made.email == "new@home.example"
    with pytest.raises(Forbidden):
        accounts.create_user(
            actor=coach,
            organization=home,
            email="x@home.example",
            role="teacher",
            password="long enough pw",
        )
    with pytest.raises(Forbidden):
        accounts.create_user(
            actor=admin,
            organization=away,
            email="y@away.example",
            role="teacher",
            password="long enough pw",
        )
    with pytest.raises(Conflict):
        accounts.create_user(
            actor=admin,
            organization=home,
            email="new@home.example",
            role="coach",
            password="long enough pw",
        )
    with pytest.raises(Invalid) as short:
        accounts.create_user(
            actor=admin, organization=home, email="z@home.example", role="coach", password="short"
        )
    assert short.value.field == "password"
    with pytest.raises(Invalid) as role:
        accounts.create_user(
            actor=admin,
            organization=home,
            email="z@home.example",
            role="principal",
            password="long enough pw",
        )
    assert role.value.field == "role"


def test_admins_manage_only_their_district(
    app: Flask, district: Callable[..., Organization], make_user: Callable[..., User]
) -> None:
    home, away = district("home"), district("away")
    admin = make_user("admin", org=home)
    foreign = make_user("teacher", org=away)
    with pytest.raises(NotFound):
        accounts.set_active(admin, foreign.id, False)
    with pytest.raises(NotFound):
        accounts.set_role(admin, foreign.id, "coach")
    with pytest.raises(Invalid):
        accounts.set_active(admin, admin.id, False)
    with pytest.raises(Invalid):
        accounts.set_role(admin, admin.id, "teacher")
    teacher = make_user("teacher", org=home)
    assert accounts.set_role(admin, teacher.id, "coach").role == Role.COACH
    assert [u.organization_id for u in accounts.district_users(admin)] == [home.id] * 2


def test_caseloads(
    app: Flask, district: Callable[..., Organization], make_user: Callable[..., User]
) -> None:
    home, away = district("home"), district("away")
    admin, coach, teacher = (
        make_user("admin", org=home),
        make_user("coach", org=home),
        make_user("teacher", org=home),
    )
    first = caseloads.assign_coach(admin, coach, teacher)
    assert caseloads.assign_coach(admin, coach, teacher).id == first.id  # idempotent
    assert caseloads.caseload(coach) == [teacher]
    assert caseloads.coaches_of(teacher) == [coach]
    with pytest.raises(Invalid):
        caseloads.assign_coach(admin, teacher, coach)
    with pytest.raises(Invalid):
        caseloads.assign_coach(admin, coach, make_user("teacher", org=away))
    with pytest.raises(Forbidden):
        caseloads.assign_coach(make_user("admin", org=away), coach, teacher)
    with pytest.raises(NotFound):
        caseloads.unassign_coach(make_user("admin", org=away), first.id)
    caseloads.unassign_coach(admin, first.id)
    assert caseloads.caseload(coach) == []


def test_invitations(app: Flask, make_user: Callable[..., User]) -> None:
    admin = make_user("admin")
    invitation, code = invitations.invite(admin, "Coach.New@School.example", "coach")
    assert invitations.open_invitation(code).id == invitation.id
    assert code not in invitation.token_hash
    user = invitations.accept_invitation(code, "Casey New", "a long enough password")
    assert (user.email, user.role, user.organization_id) == (
        "coach.new@school.example",
        Role.COACH,
        admin.organization_id,
    )
    with pytest.raises(NotFound):
        invitations.accept_invitation(code, "Again", "a long enough password")

    late, late_code = invitations.invite(admin, "late@school.example", "teacher")
    late.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(NotFound):
        invitations.open_invitation(late_code)
    withdrawn, withdrawn_code = invitations.invite(admin, "gone@school.example", "teacher")
    invitations.revoke_invitation(admin, withdrawn.id)
    with pytest.raises(NotFound):
        invitations.open_invitation(withdrawn_code)
    assert invitations.pending_invitations(admin) == []
    with pytest.raises(Forbidden):
        invitations.invite(make_user("coach"), "x@school.example", "teacher")
    assert db.session.query(Invitation).count() == 3


def test_the_audit_trail_cannot_be_rewritten(app: Flask, make_user: Callable[..., User]) -> None:
    make_user()
    event = db.session.query(AuditEvent).first()
    assert event is not None
    event.action = "something.else"
    with pytest.raises(AuditChangeError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(event)
    with pytest.raises(AuditChangeError):
        db.session.commit()


def live_sessions(user: User) -> int:
    return (
        db.session.query(LoginSession)
        .filter(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .count()
    )


def test_password_change_revokes_tokens_only_when_chosen(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    _, kept = api_tokens.create_api_token(user, "OBS on the classroom laptop")
    assert (
        accounts.change_password(user, PASSWORD, "a second long passphrase", revoke_tokens=False)
        == 0
    )
    assert api_tokens.user_for_api_token(kept) == user

    _, other = api_tokens.create_api_token(user, "grading script")
    assert (
        accounts.change_password(
            user, "a second long passphrase", "a third long passphrase", revoke_tokens=True
        )
        == 2
    )
    assert api_tokens.user_for_api_token(kept) is None
    assert api_tokens.user_for_api_token(other) is None
    changes = db.session.query(AuditEvent).filter(AuditEvent.action == "user.password_changed")
    assert [e.detail.get("tokens_revoked") for e in changes.order_by(AuditEvent.id)] == [0, 2]


def test_admin_password_reset_ends_sessions_and_tokens(
    app: Flask, district: Callable[..., Organization], make_user: Callable[..., User]
) -> None:
    admin, teacher = make_user("admin"), make_user("teacher")
    _, token = api_tokens.create_api_token(teacher, "grading script")
    accounts.open_login_session(teacher, "127.0.0.1", "laptop")
    assert live_sessions(teacher) == 1

    person, code = passwords.reset_password(admin, teacher.id)
    assert person == teacher
    assert api_tokens.user_for_api_token(token) is None
    assert live_sessions(teacher) == 0
    assert accounts.authenticate(teacher.email, PASSWORD) is None  # the old password is gone
    assert passwords.open_password_reset(code) == teacher

    # The link works once, for a password that meets the rules.
    with pytest.raises(Invalid):
        passwords.complete_password_reset(code, "short")
    passwords.complete_password_reset(code, "a fresh long passphrase")
    assert accounts.authenticate(teacher.email, "a fresh long passphrase") == teacher
    with pytest.raises(NotFound):
        passwords.complete_password_reset(code, "another long passphrase")
    # A newer reset kills an older link; a tampered or foreign link is refused.
    _, first = passwords.reset_password(admin, teacher.id)
    _, second = passwords.reset_password(admin, teacher.id)
    with pytest.raises(NotFound):
        passwords.open_password_reset(first)
    with pytest.raises(NotFound):
        passwords.open_password_reset(second[:-2] + "xx")
    assert passwords.open_password_reset(second) == teacher

    # Only an administrator of the person's district, and not for their own password.
    outsider = make_user("admin", org=district("elsewhere"))
    for actor in (outsider, make_user("coach"), teacher):
        with pytest.raises(NotFound):
            passwords.reset_password(actor, admin.id if actor is teacher else teacher.id)
    with pytest.raises(Invalid):
        passwords.reset_password(admin, admin.id)
    resets = db.session.query(AuditEvent).filter(AuditEvent.action == "user.password_reset")
    assert [(e.actor_id, e.object_id) for e in resets] == [(admin.id, str(teacher.id))] * 3
