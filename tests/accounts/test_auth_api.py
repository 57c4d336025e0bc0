"""Sign-in, sessions, CSRF, API tokens and the login rate limit, through the HTTP API."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.accounts import login_attempts
from app.accounts import service as accounts
from app.accounts import tokens as api_tokens
from app.accounts.models import LoginSession, User
from app.core.audit_models import AuditEvent
from app.core.errors import TooManyAttempts
from app.core.extensions import db
from tests.conftest import PASSWORD, REDIS_URL, login, make_app, need, wait_until


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_login_me_logout(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user("coach")
    assert client.get("/api/me").status_code == 401
    token = login(client, user)
    me = client.get("/api/me").get_json()
    assert me["email"] == user.email
    assert me["role"] == "coach"
    assert me["csrf_token"]
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": token}).status_code == 200
    assert client.get("/api/me").status_code == 401
    assert {"auth.login", "auth.logout"} <= set(actions())


def test_wrong_password_and_unknown_email_get_one_message(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    wrong = client.post(
        "/api/auth/login", json={"email": user.email, "password": "not the one at all"}
    )
    unknown = client.post(
        "/api/auth/login", json={"email": "nobody@school.example", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.get_json()
        == unknown.get_json()
        == {"error": "Wrong email or password.", "field": None}
    )
    assert actions().count("auth.login_failed") == 2


def test_session_cookie_flags_and_rotation(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    client.get("/login")
    before = client.get_cookie("loupe_session")
    response = client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    after = client.get_cookie("loupe_session")
    assert after is not None
    assert before is None or before.value != after.value


def test_deactivation_ends_sessions_at_once(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    admin, teacher = make_user("admin"), make_user("teacher")
    login(client, teacher)
    assert client.get("/api/me").status_code == 200
    accounts.set_active(admin, teacher.id, False)
    assert client.get("/api/me").status_code == 401
    response = client.post("/api/auth/login", json={"email": teacher.email, "password": PASSWORD})
    assert response.status_code == 401


def test_idle_session_expires(tmp_path: Path) -> None:
    app = make_app(tmp_path, LOUPE_SESSION_IDLE_MINUTES="1")
    with app.app_context():
        org = accounts.create_organization("North", "north")
        user = accounts.create_user(
            actor=None, organization=org, email="t@north.example", role="teacher", password=PASSWORD
        )
        client = app.test_client()
        login(client, user)
        assert client.get("/api/me").status_code == 200
        with client.session_transaction() as session:
            sid = session["sid"]
        login_session = db.session.get(LoginSession, sid)
        assert login_session is not None
        login_session.last_seen_at -= timedelta(seconds=61)
        db.session.commit()
        assert client.get("/api/me").status_code == 401
        db.session.refresh(login_session)
        assert login_session.ended_at is not None


def test_cookie_writes_need_the_csrf_token(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    token = login(client, make_user())
    refused = client.post("/api/tokens", json={"name": "script"})
    assert refused.status_code == 403
    assert refused.get_json()["field"] == "X-CSRF-Token"
    wrong = client.post("/api/tokens", json={"name": "script"}, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    assert (
        client.post(
            "/api/tokens", json={"name": "script"}, headers={"X-CSRF-Token": token}
        ).status_code
        == 201
    )


def test_login_from_another_site_is_refused(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    response = client.post(
        "/api/auth/login",
        json={"email": user.email, "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_bearer_tokens(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user()
    csrf = login(client, user)
    created = client.post(
        "/api/tokens", json={"name": "OBS"}, headers={"X-CSRF-Token": csrf}
    ).get_json()
    raw = created["token"]
    assert raw.startswith("loupe_")
    assert created["name"] == "OBS"
    client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})

    bearer = {"Authorization": f"Bearer {raw}"}
    fresh = client.application.test_client()
    assert fresh.get("/api/me", headers=bearer).get_json()["email"] == user.email
    # Token requests need no CSRF token and never create a cookie session.
    write = fresh.post("/api/tokens", json={"name": "second"}, headers=bearer)
    assert write.status_code == 201
    assert "Set-Cookie" not in write.headers
    assert fresh.get("/api/me").status_code == 401

    assert fresh.get("/api/me", headers={"Authorization": "Bearer loupe_nope"}).status_code == 401
    assert fresh.delete(f"/api/tokens/{created['id']}", headers=bearer).status_code == 204
    assert fresh.get("/api/me", headers=bearer).status_code == 401
    listed = api_tokens.list_api_tokens(user)
    assert [t.name for t in listed] == ["second", "OBS"]
    assert listed[1].revoked_at is not None


def test_cli_style_token_is_stored_only_as_a_hash(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    token, raw = api_tokens.create_api_token(user, "cli")
    assert raw not in token.token_hash
    assert token.prefix == raw[:12]
    assert api_tokens.user_for_api_token(raw) == user


def test_login_rate_limit(tmp_path: Path) -> None:
    app = make_app(tmp_path, LOUPE_LOGIN_RATE_LIMIT="3 per minute")
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    with app.app_context():
        client = app.test_client()
        codes = [
            client.post(
                "/api/auth/login", json={"email": "x@y.example", "password": "wrong password"}
            ).status_code
            for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        assert (
            "Too many"
            in client.post(
                "/api/auth/login", json={"email": "a@b.example", "password": "p"}
            ).get_json()["error"]
        )


def test_form_login_and_logout(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user("coach")
    page = client.get("/")
    assert page.status_code == 302
    assert "/login" in page.headers["Location"]
    form = client.get("/login").get_data(as_text=True)
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 403
    )
    bad = client.post("/login", data={"email": user.email, "password": "nope", "csrf_token": csrf})
    assert bad.status_code == 401
    assert "Wrong email or password." in bad.get_data(as_text=True)
    ok = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": csrf,
            "next": "//evil.example/",
        },
    )
    assert ok.status_code == 302
    assert ok.headers["Location"] == "/"
    assert "My caseload" in client.get("/").get_data(as_text=True)


def test_a_copied_cookie_dies_with_logout(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    csrf = login(client, user)
    copied = client.get_cookie("loupe_session")
    assert copied is not None
    client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    thief = client.application.test_client()
    thief.set_cookie("loupe_session", copied.value)
    assert thief.get("/api/me").status_code == 401


def test_password_change_ends_other_sessions(app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user)
    login(phone, user)
    form = laptop.get("/account").get_data(as_text=True)
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    changed = laptop.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "csrf_token": csrf,
        },
    )
    assert changed.status_code == 302
    assert laptop.get("/api/me").status_code == 200
    assert phone.get("/api/me").status_code == 401


def test_cookies_are_secure_under_https(tmp_path: Path) -> None:
    app = make_app(tmp_path, LOUPE_HTTPS="1")
    with app.app_context():
        org = accounts.create_organization("South", "south")
        user = accounts.create_user(
            actor=None, organization=org, email="t@south.example", role="teacher", password=PASSWORD
        )
        response = app.test_client().post(
            "/api/auth/login", json={"email": user.email, "password": PASSWORD}
        )
        assert "Secure" in response.headers["Set-Cookie"]


# --- where sign-in sends people ----------------------------------------------------------------


def form_login(client: FlaskClient, user: User, next_target: str) -> tuple[int, str]:
    """Sign in through the page form with a `next` field; return the status and Location."""
    form = client.get("/login", query_string={"next": next_target})
    assert form.status_code == 200
    csrf = form.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf, "next": next_target},
    )
    return answer.status_code, answer.headers.get("Location", "")


def is_same_origin_path(location: str) -> bool:
    """Tell whether a browser would read this Location as a path on the same site."""
    if not location.isascii() or any(ord(c) <= 32 or ord(c) == 127 for c in location):
        return False
    parts = urlsplit(location)
    return (
        not parts.scheme
        and not parts.netloc
        and location.startswith("/")
        and not location.startswith(("//", "/\\"))
        and "\\" not in location
    )


HOSTILE_NEXT = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "\x00//evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "HTTPS://evil.example",
    "http:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "@evil.example",
    "/\n/x",
    "/\t\t/evil.example",
    "/%09/evil.example",
    "%2F%2Fevil.example",
    "/\u3002/evil.example",
    "/x\r\nSet-Cookie: a=b",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_sign_in_never_leaves_the_site(
    client: FlaskClient, make_user: Callable[..., User], target: str
) -> None:
    status, location = form_login(client, make_user(), target)
    assert status == 302
    assert is_same_origin_path(location), location


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/videos/3", "/videos/3"),
        ("/videos/3?tab=notes#t=12", "/videos/3?tab=notes#t=12"),
        ("/account?next=//evil.example", "/account?next=//evil.example"),
        ("/a b", "/a%20b"),
        ("", "/"),
        ("/\t/evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
    ],
)
def test_sign_in_keeps_a_local_next(
    client: FlaskClient, make_user: Callable[..., User], target: str, expected: str
) -> None:
    assert form_login(client, make_user(), target) == (302, expected)


def test_sign_in_redirect_is_a_local_path_whatever_next_is(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    # Built like the attacks: a run of slashes, blanks and the like, then a host.
    hostile = st.builds(
        lambda lead, sep, host: lead + sep + host,
        st.text(alphabet="/\\\t\n\r \x00%:@.", max_size=4),
        st.sampled_from(["", "/", "//", "\\", "%2F", "http:", "javascript:"]),
        st.sampled_from(["evil.example", "evil.example/x?y=1", ""]),
    )

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(target=st.one_of(hostile, st.text(max_size=30)))
    def check(target: str) -> None:
        status, location = form_login(app.test_client(), user, target)
        assert status == 302
        assert is_same_origin_path(location), (target, location)

    check()


# --- how many sign-ins are allowed --------------------------------------------------------------


def page_csrf(client: FlaskClient) -> str:
    form = client.get("/login").get_data(as_text=True)
    return form.split('name="csrf_token" value="')[1].split('"')[0]


def test_one_login_limit_per_client_across_page_and_api(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    with app.app_context():
        client = app.test_client()
        csrf = page_csrf(client)

        def api() -> int:
            wrong = {"email": f"{uuid.uuid4().hex}@x.example", "password": "wrong password"}
            return client.post("/api/auth/login", json=wrong).status_code

        def page() -> tuple[int, str | None]:
            wrong = {"email": f"{uuid.uuid4().hex}@x.example", "password": "wrong password"}
            answer = client.post("/login", data=wrong | {"csrf_token": csrf})
            return answer.status_code, answer.headers.get("Retry-After")

        assert [api(), api(), page()[0]] == [401, 401, 401]
        status, retry_after = page()
        assert status == 429
        assert retry_after is not None
        assert 0 < int(retry_after) <= 61  # the limiter rounds its window end up
        refused = client.post("/api/auth/login", json={"email": "a@b.example", "password": "p"})
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 61


def test_account_backoff_schedule(app: Flask) -> None:
    # The defaults: five failures, then 1, 2, 4, 8 minutes, never more than 15.
    waits = [login_attempts.backoff_seconds(n) for n in range(1, 11)]
    assert waits == [0, 0, 0, 0, 60, 120, 240, 480, 900, 900]
    assert login_attempts.backoff_seconds(10**6) == 900


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backoff_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An app refusing an email for 1 s after three failures, then 2 s at most."""
    extra = {
        "LOUPE_LOGIN_ACCOUNT_FAILURES": "3",
        "LOUPE_LOGIN_BACKOFF_S": "1",
        "LOUPE_LOGIN_BACKOFF_MAX_S": "2",
    }
    if request.param == "redis":
        need(REDIS_URL is not None, "LOUPE_TEST_REDIS_URL is not set (no Redis to test against)")
        assert REDIS_URL is not None
        extra["LOUPE_REDIS_URL"] = REDIS_URL
    application = make_app(tmp_path, **extra)
    with application.app_context():
        assert application.config["RATELIMIT_STORAGE_URI"] == (
            REDIS_URL if request.param == "redis" else "memory://"
        )
        yield application
        db.session.remove()
        db.engine.dispose()


def refused(email: str) -> bool:
    try:
        login_attempts.check(email)
    except TooManyAttempts:
        return True
    return False


def test_failed_sign_ins_back_off_per_email(
    backoff_app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    unknown = f"nobody-{uuid.uuid4().hex}@school.example"
    client = backoff_app.test_client()

    def attempt(email: str, password: str) -> tuple[int, str | None, object]:
        answer = client.post("/api/auth/login", json={"email": email, "password": password})
        return answer.status_code, answer.headers.get("Retry-After"), answer.get_json()

    for email in (user.email, unknown):
        assert [attempt(email, "wrong password")[0] for _ in range(3)] == [401, 401, 401]
    # Refused even with the right password, with the same answer for a real and an unknown email.
    status, retry_after, body = attempt(user.email, PASSWORD)
    assert (status, retry_after) == (429, "1")
    assert body == {
        "error": "Too many failed sign-ins for this email. Try again in a minute.",
        "field": "email",
    }
    assert attempt(unknown, PASSWORD) == (429, "1", body)
    assert attempt(user.email.upper(), PASSWORD)[0] == 429
    page = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": page_csrf(client)},
    )
    assert page.status_code == 429
    assert page.headers["Retry-After"] == "1"
    assert page.mimetype == "text/html"
    assert "Too many failed sign-ins for this email." in page.get_data(as_text=True)
    # Someone else signs in as usual meanwhile.
    login(backoff_app.test_client(), make_user())

    # Once the refusal ends, each further failure doubles it, up to the cap.
    wait_until(lambda: not refused(user.email), 5, "the first refusal to end")
    assert attempt(user.email, "wrong password")[0] == 401
    assert attempt(user.email, PASSWORD)[:2] == (429, "2")
    wait_until(lambda: not refused(user.email), 5, "the second refusal to end")
    assert attempt(user.email, "wrong password")[0] == 401
    assert attempt(user.email, PASSWORD)[:2] == (429, "2")

    # A success ends the series: one more failure is just a failure.
    wait_until(lambda: not refused(user.email), 5, "the capped refusal to end")
    assert attempt(user.email, PASSWORD)[0] == 200
    assert attempt(user.email, "wrong password")[0] == 401
    assert attempt(user.email, PASSWORD)[0] == 200


# --- passwords and personal API tokens ----------------------------------------------------------


def bearer(client: FlaskClient, token: str) -> int:
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_password_change_on_the_account_page_revokes_tokens_when_chosen(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    client = app.test_client()
    csrf = login(client, user)
    raw = client.post(
        "/api/tokens", json={"name": "OBS laptop"}, headers={"X-CSRF-Token": csrf}
    ).get_json()["token"]
    page = client.get("/account").get_data(as_text=True)
    assert "Also revoke my 1 API token" in page
    assert 'name="revoke_tokens" value="1" checked' in page
    form_csrf = page.split('name="csrf_token" value="')[1].split('"')[0]

    def change(old: str, new: str, **extra: str) -> str:
        answer = client.post(
            "/account/password",
            data={"current_password": old, "new_password": new, "csrf_token": form_csrf} | extra,
        )
        assert answer.status_code == 302
        return client.get("/account").get_data(as_text=True)

    # Left unticked, the token keeps working.
    assert "Password changed." in change(PASSWORD, "a second long passphrase")
    assert bearer(app.test_client(), raw) == 200
    # Ticked (as the page has it by default), it stops.
    shown = change("a second long passphrase", "a third long passphrase", revoke_tokens="1")
    assert "1 API token was revoked." in shown
    assert bearer(app.test_client(), raw) == 401
    assert "Also revoke my" not in shown  # no live token left to offer
    assert client.get("/api/me").status_code == 200  # this session goes on


def test_admin_password_reset_through_the_api_and_the_page(
    app: Flask, make_user: Callable[..., User]
) -> None:
    admin, teacher = make_user("admin"), make_user("teacher")
    teacher_client = app.test_client()
    teacher_csrf = login(teacher_client, teacher)
    raw = teacher_client.post(
        "/api/tokens", json={"name": "script"}, headers={"X-CSRF-Token": teacher_csrf}
    ).get_json()["token"]
    admin_client = app.test_client()
    admin_csrf = login(admin_client, admin)
    url = f"/api/admin/users/{teacher.id}/password-reset"
    assert (
        "/api/admin/users/{user_id}/password-reset"
        in app.test_client().get("/api/openapi.json").get_json()["paths"]
    )
    # Nobody but an administrator of the district (a teacher's own token included).
    assert teacher_client.post(url, headers={"X-CSRF-Token": teacher_csrf}).status_code == 404
    assert (
        app.test_client().post(url, headers={"Authorization": f"Bearer {raw}"}).status_code == 404
    )

    reset = admin_client.post(url, headers={"X-CSRF-Token": admin_csrf})
    assert reset.status_code == 200, reset.get_json()
    body = reset.get_json()
    assert body["user"]["id"] == teacher.id
    assert body["expires_in_days"] == 3
    # Every session and token of theirs ends; the old password no longer signs in.
    assert bearer(app.test_client(), raw) == 401
    assert teacher_client.get("/api/me").status_code == 401
    wrong = {"email": teacher.email, "password": PASSWORD}
    assert app.test_client().post("/api/auth/login", json=wrong).status_code == 401

    # The link lets them choose a new password once, and signs them in.
    link = urlsplit(body["reset_url"]).path
    visitor = app.test_client()
    form = visitor.get(link)
    assert form.status_code == 200
    assert teacher.email in form.get_data(as_text=True)
    csrf = form.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    short = visitor.post(link, data={"password": "short", "csrf_token": csrf})
    assert short.status_code == 400
    done = visitor.post(link, data={"password": "a fresh long passphrase", "csrf_token": csrf})
    assert (done.status_code, done.headers["Location"]) == (302, "/")
    assert visitor.get("/api/me").get_json()["id"] == teacher.id
    assert app.test_client().get(link).status_code == 404

    # The admin page offers the same, and shows the link once.
    page = admin_client.get("/admin").get_data(as_text=True)
    assert f"/admin/users/{teacher.id}/password-reset" in page
    assert f"/admin/users/{admin.id}/password-reset" not in page
    page_csrf_token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = admin_client.post(
        f"/admin/users/{teacher.id}/password-reset", data={"csrf_token": page_csrf_token}
    )
    assert answer.status_code == 302
    shown = admin_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Password link" in shown
    assert "signed out everywhere and their API tokens revoked" in shown
    assert visitor.get("/api/me").status_code == 401
