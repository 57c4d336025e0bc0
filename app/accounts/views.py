"""Pages of accounts: sign-in, password resets, the home of each role, one's account, district
administration and invitations.
"""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from app.accounts import caseloads, invitations, passwords
from app.accounts import service as accounts
from app.accounts import tokens as api_tokens
from app.accounts.models import Role, User
from app.accounts.security import (
    LOGIN_LIMIT_SCOPE,
    current_session_id,
    end_session,
    local_redirect_target,
    login_rate_limit,
    signed_in,
    signed_in_user,
    start_session,
)
from app.core import policy
from app.core.errors import Invalid, ServiceError, TooManyAttempts
from app.core.extensions import db, limiter
from app.core.numbers import ID_MAX, parse_whole
from app.core.pages import bp
from app.debriefs import service as debriefs
from app.frameworks import service as frameworks
from app.lessons import service as videos


@bp.get("/login")
def login() -> str | Response:
    """Show the sign-in form."""
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    return render_template("login.html", email="", next=request.args.get("next", ""))


@bp.post("/login")
@limiter.shared_limit(login_rate_limit, scope=LOGIN_LIMIT_SCOPE)
def login_post() -> str | Response | tuple[str, int]:
    """Sign in from the form."""
    email = request.form.get("email", "")[:254]
    password = request.form.get("password", "")[:1024]
    try:
        user = accounts.authenticate(email, password)
    except TooManyAttempts as exc:
        page = make_response(
            render_template(
                "login.html", email=email, next=request.form.get("next", ""), error=exc.message
            ),
            429,
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if user is None:
        return render_template(
            "login.html",
            email=email,
            next=request.form.get("next", ""),
            error="Wrong email or password.",
        ), 401
    start_session(user)
    return redirect(local_redirect_target(request.form.get("next"), url_for("web.home")))


@bp.post("/logout")
@signed_in
def logout() -> Response:
    """Sign out."""
    end_session()
    return redirect(url_for("web.login"))


@bp.get("/")
@signed_in
def home() -> str:
    """Show the home of the signed-in person's role."""
    me = signed_in_user()
    if me.role == Role.ADMIN:
        return admin_page()
    visible = videos.list_videos(me)
    own = [v for v in visible if v.owner_id == me.id]
    shared = [v for v in visible if v.owner_id != me.id]
    meetings = _home_debriefs(me)
    if me.role == Role.COACH:
        teachers = caseloads.caseload(me)
        by_teacher = {t.id: [v for v in shared if v.owner_id == t.id] for t in teachers}
        return render_template(
            "coach_home.html",
            teachers=teachers,
            by_teacher=by_teacher,
            shared=shared,
            own=own,
            debriefs=meetings,
        )
    return render_template(
        "teacher_home.html",
        videos=own,
        shared=shared,
        coaches=caseloads.coaches_of(me),
        debriefs=meetings,
    )


def _home_debriefs(me: User) -> dict[str, list[dict[str, Any]]]:
    """Return a home's debriefs: every upcoming or live one, and the three most recent ended."""
    found = [debriefs.serialise(d, me) for d in debriefs.list_debriefs(me)]
    return {
        "open": [d for d in found if d["status"] != "ended"],
        "recent": [d for d in found if d["status"] == "ended"][:3],
    }


@bp.get("/account")
@signed_in
def account() -> str:
    """Show one's account and personal API tokens."""
    tokens = api_tokens.list_api_tokens(signed_in_user())
    return render_template(
        "account.html",
        tokens=tokens,
        live_tokens=[t for t in tokens if t.revoked_at is None],
    )


@bp.post("/account/password")
@signed_in
def change_password() -> Response:
    """Change one's password; the session continues with a fresh cookie."""
    me = signed_in_user()
    try:
        revoked = accounts.change_password(
            me,
            request.form.get("current_password", ""),
            request.form.get("new_password", ""),
            keep_session=current_session_id(),
            revoke_tokens=request.form.get("revoke_tokens") == "1",
        )
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("web.account"))
    tokens = (
        f" {revoked} API token{'s were' if revoked != 1 else ' was'} revoked." if revoked else ""
    )
    flash(f"Password changed. Other sessions were signed out.{tokens}", "success")
    return redirect(url_for("web.account"))


# --- admin -------------------------------------------------------------------------------------


def _admin() -> User:
    me = signed_in_user()
    if not policy.may_manage_district(me, me.organization_id):
        abort(404)
    return me


def admin_page() -> str:
    """Show the district administration page."""
    me = _admin()
    people = accounts.district_users(me)
    return render_template(
        "admin.html",
        people=people,
        coaches=[p for p in people if p.role == Role.COACH and p.active],
        teachers=[p for p in people if p.role == Role.TEACHER and p.active],
        assignments=caseloads.district_assignments(me),
        invitations=invitations.pending_invitations(me),
        frameworks=frameworks.list_frameworks(me),
        new_link=request.args.get("link"),
        reset_link=request.args.get("reset_link"),
        reset_days=passwords.RESET_DAYS,
    )


@bp.get("/admin")
@signed_in
def admin() -> str:
    """Show the district administration page."""
    return admin_page()


def _admin_action(fn: Any) -> Response:
    try:
        message = fn()
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        if message:
            flash(message, "success")
    return redirect(url_for("web.admin"))


def _form_int(name: str) -> int:
    raw = request.form.get(name, "")
    try:
        return parse_whole(raw, field=name, minimum=1, maximum=ID_MAX)
    except Invalid:
        raise ServiceError(f"Choose a value for {name.replace('_', ' ')}.", field=name) from None


@bp.post("/admin/users")
@signed_in
def admin_create_user() -> Response:
    """Create an account with a first password."""
    me = _admin()
    return _admin_action(
        lambda: (
            "Created "
            + accounts.create_user(
                actor=me,
                organization=me.organization,
                email=request.form.get("email", ""),
                role=request.form.get("role", ""),
                password=request.form.get("password", ""),
                name=request.form.get("name") or None,
            ).email
        )
    )


@bp.post("/admin/users/<int:user_id>/active")
@signed_in
def admin_set_active(user_id: int) -> Response:
    """Activate or deactivate an account."""
    me = _admin()
    active = request.form.get("active") == "1"
    state = "active" if active else "deactivated"
    return _admin_action(lambda: f"{accounts.set_active(me, user_id, active).name} is now {state}.")


@bp.post("/admin/users/<int:user_id>/role")
@signed_in
def admin_set_role(user_id: int) -> Response:
    """Change an account's role."""
    me = _admin()
    return _admin_action(
        lambda: (
            f"{accounts.set_role(me, user_id, request.form.get('role', '')).name}'s role changed."
        )
    )


@bp.post("/admin/users/<int:user_id>/password-reset")
@signed_in
def admin_reset_password(user_id: int) -> Response:
    """Reset someone's password: their sessions and tokens end; the page shows their link."""
    me = _admin()
    try:
        user, code = passwords.reset_password(me, user_id)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("web.admin"))
    flash(
        f"{user.name}'s password was reset: they were signed out everywhere and their API "
        "tokens revoked. Send them the link below to choose a new password.",
        "success",
    )
    link = url_for("web.password_reset", code=code, _external=True)
    return redirect(url_for("web.admin", reset_link=link))


@bp.post("/admin/invitations")
@signed_in
def admin_invite() -> Response:
    """Invite someone; the page shows the link to send them."""
    me = _admin()
    try:
        invitation, code = invitations.invite(
            me, request.form.get("email", ""), request.form.get("role", "")
        )
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("web.admin"))
    flash(f"Invitation created for {invitation.email}. Send them the link below.", "success")
    return redirect(url_for("web.admin", link=url_for("web.invitation", code=code, _external=True)))


@bp.post("/admin/invitations/<int:invitation_id>/revoke")
@signed_in
def admin_revoke_invitation(invitation_id: int) -> Response:
    """Withdraw an invitation."""
    me = _admin()

    def withdraw() -> str:
        invitations.revoke_invitation(me, invitation_id)
        return "Invitation withdrawn."

    return _admin_action(withdraw)


@bp.post("/admin/assignments")
@signed_in
def admin_assign() -> Response:
    """Put a teacher on a coach's caseload."""
    me = _admin()

    def assign() -> str:
        coach = db.session.get(User, _form_int("coach_id"))
        teacher = db.session.get(User, _form_int("teacher_id"))
        if (
            coach is None
            or teacher is None
            or coach.organization_id != me.organization_id
            or teacher.organization_id != me.organization_id
        ):
            raise ServiceError("Choose a coach and a teacher of your district.", field="coach_id")
        framework_id = _form_int("framework_id") if request.form.get("framework_id") else None
        caseloads.assign_coach(me, coach, teacher, framework_id=framework_id)
        return f"{teacher.name} is on {coach.name}'s caseload."

    return _admin_action(assign)


@bp.post("/admin/assignments/<int:assignment_id>/delete")
@signed_in
def admin_unassign(assignment_id: int) -> Response:
    """Take a teacher off a caseload."""
    me = _admin()

    def unassign() -> str:
        caseloads.unassign_coach(me, assignment_id)
        return "Removed from the caseload."

    return _admin_action(unassign)


# --- invitations -------------------------------------------------------------------------------


@bp.get("/invite/<code>")
def invitation(code: str) -> str:
    """Show the form to accept an invitation."""
    inv = invitations.open_invitation(code)
    return render_template("invite.html", invitation=inv, code=code)


@bp.post("/invite/<code>")
def invitation_accept(code: str) -> str | Response | tuple[str, int]:
    """Create the invited account and sign in."""
    inv = invitations.open_invitation(code)
    try:
        user = invitations.accept_invitation(
            code, request.form.get("name", ""), request.form.get("password", "")
        )
    except ServiceError as exc:
        return render_template("invite.html", invitation=inv, code=code, error=exc.message), 400
    start_session(user)
    return redirect(url_for("web.home"))


@bp.get("/reset/<code>")
def password_reset(code: str) -> str:
    """Show the form to choose a new password after an administrator's reset."""
    user = passwords.open_password_reset(code)
    return render_template("reset_password.html", person=user)


@bp.post("/reset/<code>")
def password_reset_post(code: str) -> str | Response | tuple[str, int]:
    """Set the new password and sign in."""
    user = passwords.open_password_reset(code)
    try:
        user = passwords.complete_password_reset(code, request.form.get("password", ""))
    except ServiceError as exc:
        return render_template("reset_password.html", person=user, error=exc.message), 400
    start_session(user)
    return redirect(url_for("web.home"))


# --- frameworks --------------------------------------------------------------------------------


# --- debrief -----------------------------------------------------------------------------------


# --- live debriefs -----------------------------------------------------------------------------


# --- live lessons ------------------------------------------------------------------------------
