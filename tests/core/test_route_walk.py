"""Walk every route of the URL map as every role: a route without an access decision fails CI.

One table, ROUTES, keyed by endpoint name, says what each role gets from each route: allowed
(2xx/3xx), sent to sign in (401 or a redirect to /login), hidden (404: Loupe never says that an
object exists to someone without access) or refused (403: the person sees the object but may
not do this to it). Allowed requests carry a minimal valid body, so that "allowed" is really
allowed and a denial is really the policy, not validation. Every write acts on objects made for
that one request, so no role's write changes another role's outcome.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from app.accounts import caseloads, invitations, passwords
from app.accounts import service as accounts
from app.accounts import tokens as api_tokens
from app.accounts.models import Organization, User
from app.core.extensions import db
from app.core.storage import storage
from app.debriefs import recording, room
from app.debriefs import service as debriefs
from app.debriefs.models import NoteKind
from app.debriefs.schemas import NoteIn
from app.feedback import documents as annotation_exports
from app.feedback import replies
from app.feedback import service as feedback
from app.feedback.schemas import AnnotationIn, ReplyIn
from app.frameworks import service as frameworks
from app.lessons import service as videos
from app.lessons import uploads
from app.live.models import LiveStream
from tests.conftest import PASSWORD, free_port, login, make_app

Outcome = str | int
OK = "ok"  # 2xx or 3xx (other than to the sign-in form)
LOGIN = "login"  # 401, or a redirect to /login
HIDDEN = 404
REFUSED = 403
GATEWAY_DOWN = 503  # the policy let the request through to the rtc gateway, not running here

ROLES = ("anonymous", "owner", "commenter", "viewer", "revoked", "colleague", "admin", "foreign")
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

FRAMEWORK_SPEC: dict[str, Any] = {
    "name": "Walk look-fors",
    "description": "",
    "dimensions": [
        {"name": "Talk", "levels": [{"score": 1, "label": "Some", "descriptor": "Some talk."}]}
    ],
}


def who(default: Outcome, *, anonymous: Outcome = LOGIN, **roles: Outcome) -> dict[str, Outcome]:
    """Return each role's outcome: the default unless named."""
    unknown = set(roles) - set(ROLES)
    assert not unknown, f"no such roles: {unknown}"
    return {"anonymous": anonymous} | {r: roles.get(r, default) for r in ROLES[1:]}


PUBLIC = who(OK, anonymous=OK)
SIGNED_IN = who(OK)
WATCH = who(HIDDEN, owner=OK, commenter=OK, viewer=OK)
COMMENT = who(HIDDEN, owner=OK, commenter=OK, viewer=REFUSED)
OWNER = who(HIDDEN, owner=OK, commenter=REFUSED, viewer=REFUSED)
OWNER_ALONE = who(HIDDEN, owner=OK)  # someone else's object: not even its existence shows
ADMIN = who(HIDDEN, admin=OK)
KEEPS_LESSONS = who(OK, admin=REFUSED)  # teachers and coaches, of any district
# The debrief: hosted by the commenter, with the owner and, as guests, the viewer and the
# coach whose share was revoked after the invitation.
DEBRIEF_MEMBERS = who(HIDDEN, owner=OK, commenter=OK, viewer=OK, revoked=HIDDEN)
DEBRIEF_HOST = who(HIDDEN, owner=REFUSED, commenter=OK, viewer=REFUSED, revoked=HIDDEN)
FRAMEWORK_EDITORS = who(
    HIDDEN, owner=REFUSED, commenter=OK, viewer=REFUSED, revoked=OK, colleague=REFUSED, admin=OK
)

Body = Callable[["Scene", "User | None"], dict[str, Any]]


@dataclass(frozen=True)
class Expect:
    """What each role gets from one route, and what to send it."""

    outcomes: dict[str, Outcome]
    body: Body | None = None  # keyword arguments of client.open: json, data, headers, …
    args: dict[str, str] = field(default_factory=dict)  # argument name -> Scene attribute
    session: bool = False  # starts or ends a session: sent from a client of its own, last
    # A list: the Scene attribute whose id it must hold for exactly these roles, none other.
    lists: tuple[str, frozenset[str]] | None = None


LISTED = "ok, but lists what it must not"
UNLISTED = "ok, but leaves out what it must list"
WATCHERS = frozenset({"owner", "commenter", "viewer"})


def tus(extra: dict[str, str] | None = None) -> Body:
    return lambda s, me: {"headers": {"Tus-Resumable": "1.0.0", **(extra or {})}}


def sdp(s: Scene, me: User | None) -> dict[str, Any]:
    return {"data": "v=0\r\n", "content_type": "application/sdp"}


def fresh_email() -> str:
    return f"new-{uuid.uuid4().hex[:10]}@school.example"


# Every rule of the URL map, by endpoint. A new route fails the walk until it is added here.
ROUTES: dict[str, Expect] = {
    # pages
    "static": Expect(PUBLIC),
    "web.login": Expect(PUBLIC),
    "web.login_post": Expect(
        PUBLIC,
        body=lambda s, me: {"data": {"email": (me or s.cast["owner"]).email, "password": PASSWORD}},
        session=True,
    ),
    "web.logout": Expect(who(LOGIN), session=True),  # signing out lands on the sign-in form
    "web.home": Expect(SIGNED_IN),
    "web.account": Expect(SIGNED_IN),
    "web.change_password": Expect(
        SIGNED_IN,
        body=lambda s, me: {"data": {"current_password": PASSWORD, "new_password": PASSWORD}},
        session=True,
    ),
    "web.upload_page": Expect(who(OK, admin=HIDDEN)),
    "web.live_new": Expect(who(OK, admin=HIDDEN)),
    "web.video_page": Expect(WATCH),
    "web.debrief_page": Expect(WATCH),
    "web.frameworks_page": Expect(SIGNED_IN),
    "web.coaching_log": Expect(SIGNED_IN),
    "web.debrief_room": Expect(DEBRIEF_MEMBERS),
    "web.live_watch": Expect(WATCH),
    "web.invitation": Expect(PUBLIC),
    "web.invitation_accept": Expect(
        PUBLIC,
        body=lambda s, me: {"data": {"name": "New Person", "password": PASSWORD}},
        session=True,
    ),
    "web.password_reset": Expect(PUBLIC, args={"code": "reset_code"}),
    "web.password_reset_post": Expect(
        PUBLIC,
        body=lambda s, me: {"data": {"password": "a new password 123"}},
        args={"code": "reset_code"},
        session=True,
    ),
    "web.admin": Expect(ADMIN),
    "web.admin_reset_password": Expect(ADMIN, args={"user_id": "resettable_user_id"}),
    "web.admin_create_user": Expect(
        ADMIN,
        body=lambda s, me: {
            "data": {"email": fresh_email(), "role": "teacher", "password": PASSWORD}
        },
    ),
    "web.admin_set_active": Expect(ADMIN, body=lambda s, me: {"data": {"active": "0"}}),
    "web.admin_set_role": Expect(ADMIN, body=lambda s, me: {"data": {"role": "coach"}}),
    "web.admin_invite": Expect(
        ADMIN, body=lambda s, me: {"data": {"email": fresh_email(), "role": "teacher"}}
    ),
    "web.admin_revoke_invitation": Expect(ADMIN),
    "web.admin_assign": Expect(
        ADMIN,
        body=lambda s, me: {
            "data": {"coach_id": str(s.cast["commenter"].id), "teacher_id": str(s.user_id)}
        },
    ),
    "web.admin_unassign": Expect(ADMIN),
    # media
    "media.media": Expect(WATCH),
    # account API
    "api.openapi": Expect(PUBLIC),
    "api.login": Expect(
        PUBLIC,
        body=lambda s, me: {"json": {"email": (me or s.cast["owner"]).email, "password": PASSWORD}},
        session=True,
    ),
    "api.logout": Expect(SIGNED_IN, session=True),
    "api.me": Expect(SIGNED_IN),
    "api.list_tokens": Expect(SIGNED_IN, lists=("token_id", frozenset({"owner"}))),
    "api.create_token": Expect(SIGNED_IN, body=lambda s, me: {"json": {"name": "walk"}}),
    "api.revoke_token": Expect(OWNER_ALONE),
    "api.system_ping": Expect(who(REFUSED, admin=OK)),
    "api.reset_password": Expect(ADMIN, args={"user_id": "resettable_user_id"}),
    # lessons
    "api.list_videos": Expect(SIGNED_IN, lists=("lesson_id", WATCHERS)),
    "api.get_video": Expect(WATCH),
    "api.update_video": Expect(OWNER, body=lambda s, me: {"json": {"title": "Renamed"}}),
    "api.delete_video": Expect(OWNER),
    "api.reprocess_video": Expect(OWNER),
    "api.list_shares": Expect(OWNER),
    "api.create_share": Expect(
        OWNER,
        body=lambda s, me: {"json": {"email": s.cast["colleague"].email, "permission": "view"}},
    ),
    "api.revoke_share": Expect(OWNER),
    # tus uploads: the owner's upload
    "uploads.discover": Expect(PUBLIC, body=tus()),
    "uploads.create": Expect(
        KEEPS_LESSONS,
        body=tus(
            {
                "Upload-Length": "10",
                "Upload-Metadata": "filename " + base64.b64encode(b"lesson.mp4").decode(),
            }
        ),
    ),
    "uploads.offset": Expect(OWNER_ALONE, body=tus()),
    "uploads.status": Expect(OWNER_ALONE),
    "uploads.append": Expect(
        OWNER_ALONE,
        body=lambda s, me: {
            "data": b"x",
            "content_type": "application/offset+octet-stream",
            "headers": {"Tus-Resumable": "1.0.0", "Upload-Offset": "0"},
        },
    ),
    "uploads.terminate": Expect(OWNER_ALONE, body=tus()),
    # feedback: the annotation is the commenter's, its reply the owner's
    "annotations.list_annotations": Expect(WATCH),
    "annotations.create_annotation": Expect(
        COMMENT, body=lambda s, me: {"json": {"start_ms": 1000, "body": "Good question."}}
    ),
    "annotations.video_framework": Expect(WATCH),
    "annotations.export_annotations_csv": Expect(WATCH),
    "annotations.export_annotations_json": Expect(WATCH),
    "annotations.export_annotations_vtt": Expect(WATCH),
    "annotations.import_annotations": Expect(COMMENT, body=lambda s, me: {"json": s.document}),
    "annotations.get_annotation": Expect(WATCH),
    "annotations.update_annotation": Expect(
        who(HIDDEN, owner=REFUSED, commenter=OK, viewer=REFUSED),
        body=lambda s, me: {"json": {"body": "Edited."}},
    ),
    "annotations.delete_annotation": Expect(
        who(HIDDEN, owner=REFUSED, commenter=OK, viewer=REFUSED)
    ),
    "annotations.add_reply": Expect(COMMENT, body=lambda s, me: {"json": {"body": "Thanks!"}}),
    "annotations.update_reply": Expect(
        who(HIDDEN, owner=OK, commenter=REFUSED, viewer=REFUSED),
        body=lambda s, me: {"json": {"body": "Edited reply."}},
    ),
    "annotations.delete_reply": Expect(who(HIDDEN, owner=OK, commenter=REFUSED, viewer=REFUSED)),
    # frameworks: the commenter's published framework of the home district
    "frameworks.list_frameworks": Expect(
        SIGNED_IN, lists=("framework_id", frozenset(ROLES) - {"anonymous", "foreign"})
    ),
    "frameworks.get_framework": Expect(who(OK, foreign=HIDDEN)),
    "frameworks.export_framework": Expect(who(OK, foreign=HIDDEN)),
    "frameworks.create_framework": Expect(
        who(REFUSED, commenter=OK, revoked=OK, admin=OK, foreign=OK),
        body=lambda s, me: {"json": FRAMEWORK_SPEC},
    ),
    "frameworks.import_framework": Expect(
        who(REFUSED, commenter=OK, revoked=OK, admin=OK, foreign=OK),
        body=lambda s, me: {"json": FRAMEWORK_SPEC},
    ),
    "frameworks.update_framework": Expect(
        FRAMEWORK_EDITORS, body=lambda s, me: {"json": FRAMEWORK_SPEC}
    ),
    "frameworks.publish_framework": Expect(
        who(HIDDEN, commenter=OK, revoked=OK, admin=OK),  # a draft shows to its editors only
        args={"framework_id": "draft_id"},
    ),
    # debriefs
    "debriefs.create_debrief": Expect(
        COMMENT, body=lambda s, me: {"json": {"video_id": s.lesson_id}}
    ),
    "debriefs.list_debriefs": Expect(SIGNED_IN, lists=("debrief_id", WATCHERS)),
    "debriefs.coaching_log_csv": Expect(SIGNED_IN),
    "debriefs.get_debrief": Expect(DEBRIEF_MEMBERS),
    "debriefs.end_debrief": Expect(DEBRIEF_HOST),
    "debriefs.debrief_ice": Expect(DEBRIEF_MEMBERS),
    "debriefs.add_note": Expect(
        DEBRIEF_MEMBERS, body=lambda s, me: {"json": {"kind": "action_step", "body": "Try it."}}
    ),
    "debriefs.update_note": Expect(DEBRIEF_MEMBERS, body=lambda s, me: {"json": {"done": True}}),
    "debriefs.delete_note": Expect(who(HIDDEN, owner=REFUSED, commenter=OK, viewer=REFUSED)),
    "debriefs.request_recording": Expect(DEBRIEF_HOST),
    "debriefs.consent_recording": Expect(
        DEBRIEF_MEMBERS,
        body=lambda s, me: {"json": {"agree": True}},
        args={"debrief_id": "recording_debrief_id"},
    ),
    "debriefs.recording_offer": Expect(
        who(HIDDEN, owner=409, commenter=409, viewer=409),  # not everyone consented yet
        body=lambda s, me: {"json": {"sdp": "v=0\r\n"}},
        args={"debrief_id": "recording_debrief_id"},
    ),
    "debriefs.stop_recording": Expect(DEBRIEF_HOST, args={"debrief_id": "recording_debrief_id"}),
    # live lessons: the owner's stream of the lesson
    "live.list_live": Expect(SIGNED_IN, lists=("stream_id", WATCHERS)),
    "live.get_live": Expect(WATCH),
    # Reaching the gateway (down here: 503) is what being let through looks like.
    "live.whip": Expect(who(GATEWAY_DOWN, admin=REFUSED), body=sdp),
    "live.whip_end": Expect(who(HIDDEN, owner=GATEWAY_DOWN)),
    "live.whep": Expect(
        who(HIDDEN, owner=GATEWAY_DOWN, commenter=GATEWAY_DOWN, viewer=GATEWAY_DOWN), body=sdp
    ),
    "live.whep_end": Expect(
        who(HIDDEN, owner=GATEWAY_DOWN, commenter=GATEWAY_DOWN, viewer=GATEWAY_DOWN)
    ),
}

# Holes known and being fixed: (endpoint, role) -> (what it answers today, why it is wrong).
# The walk checks the answer of today, and fails once the fix lands so that the entry is
# removed and ROUTES' expectation holds. Empty: keep it so.
KNOWN_HOLES: dict[tuple[str, str], tuple[Outcome, str]] = {}

# The argument table: a rule's argument name -> the Scene attribute that fills it.
ARGS = {
    "video_id": "lesson_id",
    "path": "media_path",
    "filename": "static_file",
    "annotation_id": "annotation_id",
    "reply_id": "reply_id",
    "share_id": "share_id",
    "debrief_id": "debrief_id",
    "note_id": "note_id",
    "stream_id": "stream_id",
    "session": "whep_session",
    "key": "whip_key",
    "upload_id": "upload_id",
    "framework_id": "framework_id",
    "token_id": "token_id",
    "invitation_id": "invitation_id",
    "assignment_id": "assignment_id",
    "user_id": "user_id",
    "code": "invitation_code",
}


class Scene:
    """One of each object the routes name, made on first use (ids only, never live rows)."""

    media_path = "video.mp4"
    static_file = "css/pages/debrief_sheet.css"
    whep_session = "walk-session"
    cast: dict[str, User]

    def __init__(self, cast: dict[str, User]) -> None:
        self.cast = cast

    def _person(self, role: str) -> User:
        return db.session.get(User, self.cast[role].id) or self.cast[role]

    @cached_property
    def _lesson(self) -> tuple[int, int, int]:
        owner, commenter = self._person("owner"), self._person("commenter")
        video = videos.create_video(owner, title="Walk lesson")
        video.duration_s = 120.0
        db.session.commit()
        for rel, body in {"video.mp4": b"\x00" * 64, "poster.jpg": b"\xff\xd8\xff\xe0"}.items():
            (storage().output_dir(video.id) / rel).parent.mkdir(parents=True, exist_ok=True)
            (storage().output_dir(video.id) / rel).write_bytes(body)
        (storage().video_dir(video.id) / "source.mp4").write_bytes(b"original upload")
        videos.share_video(owner, video.id, commenter.email, "comment")
        viewer_share = videos.share_video(owner, video.id, self.cast["viewer"].email, "view")
        revoked = videos.share_video(owner, video.id, self.cast["revoked"].email, "comment")
        invited = [self.cast["viewer"].email, self.cast["revoked"].email]
        debrief = debriefs.create_debrief(
            commenter, debriefs.DebriefIn(video_id=video.id, participants=invited)
        )
        videos.revoke_share(owner, video.id, revoked.id)
        return video.id, viewer_share.id, debrief.id

    @property
    def lesson_id(self) -> int:
        return self._lesson[0]

    @property
    def share_id(self) -> int:
        return self._lesson[1]

    @property
    def debrief_id(self) -> int:
        return self._lesson[2]

    @cached_property
    def _annotation(self) -> tuple[int, int]:
        annotation = feedback.create_annotation(
            self._person("commenter"),
            self.lesson_id,
            AnnotationIn(start_ms=2000, body="Wait time after the question."),
        )
        thread = replies.add_reply(
            self._person("owner"), annotation.id, ReplyIn(body="I'll try it.")
        )
        return annotation.id, thread.replies[-1].id

    @property
    def annotation_id(self) -> int:
        return self._annotation[0]

    @property
    def reply_id(self) -> int:
        return self._annotation[1]

    @cached_property
    def note_id(self) -> int:
        note = room.add_note(
            self._person("commenter"),
            self.debrief_id,
            NoteIn(kind=NoteKind.ACTION_STEP, body="Count to five."),
        )
        return note.id

    @cached_property
    def recording_debrief_id(self) -> int:
        recording.request_recording(self._person("commenter"), self.debrief_id)
        return self.debrief_id

    @cached_property
    def _stream(self) -> tuple[int, str]:
        owner = self._person("owner")
        stream = LiveStream(
            organization_id=owner.organization_id, owner_id=owner.id, video_id=self.lesson_id
        )
        db.session.add(stream)
        db.session.commit()
        return stream.id, stream.resource_key

    @property
    def stream_id(self) -> int:
        return self._stream[0]

    @property
    def whip_key(self) -> str:
        return self._stream[1]

    @cached_property
    def upload_id(self) -> str:
        return uploads.create_upload(self._person("owner"), 10, None).id

    @cached_property
    def framework_id(self) -> int:
        spec = frameworks.parse_spec(FRAMEWORK_SPEC)
        return frameworks.create_framework(self._person("commenter"), spec, publish=True).id

    @cached_property
    def draft_id(self) -> int:
        spec = frameworks.parse_spec(FRAMEWORK_SPEC)
        return frameworks.create_framework(self._person("commenter"), spec).id

    @cached_property
    def token_id(self) -> int:
        return api_tokens.create_api_token(self._person("owner"), "walk")[0].id

    @cached_property
    def _invitation(self) -> tuple[int, str]:
        invitation, code = invitations.invite(self._person("admin"), fresh_email(), "teacher")
        return invitation.id, code

    @property
    def invitation_id(self) -> int:
        return self._invitation[0]

    @property
    def invitation_code(self) -> str:
        return self._invitation[1]

    @property
    def resettable_user_id(self) -> int:
        """Return a fresh teacher of the home district, whose password a reset may take."""
        admin = self._person("admin")
        return accounts.create_user(
            actor=None,
            organization=admin.organization,
            email=fresh_email(),
            role="teacher",
            password=PASSWORD,
        ).id

    @property
    def reset_code(self) -> str:
        """Return a one-time link code from an administrator's reset of a fresh teacher."""
        _, code = passwords.reset_password(self._person("admin"), self.resettable_user_id)
        return code

    @cached_property
    def user_id(self) -> int:
        """Return a teacher of the home district with nothing of their own (the same each time)."""
        return self.resettable_user_id

    @cached_property
    def assignment_id(self) -> int:
        teacher = db.session.get(User, self.user_id)
        assert teacher is not None
        return caseloads.assign_coach(None, self._person("commenter"), teacher).id

    @cached_property
    def document(self) -> dict[str, Any]:
        """Return an annotations document (one annotation) to import into the lesson."""
        owner = self._person("owner")
        annotation = feedback.create_annotation(
            owner, self.lesson_id, AnnotationIn(start_ms=5000, body="To import.")
        )
        out, _ = annotation_exports.export_document(owner, self.lesson_id)
        feedback.delete_annotation(owner, annotation.id)
        data: dict[str, Any] = out.model_dump(mode="json")
        return data

    def fill(self, rule: Rule, expect: Expect) -> dict[str, Any]:
        """Return a value for each of the rule's arguments."""
        values = {}
        for name in sorted(rule.arguments):
            attribute = expect.args.get(name) or ARGS.get(name)
            assert attribute, f"argument <{name}> of {rule.rule} has no entry in ARGS"
            values[name] = getattr(self, attribute)
        db.session.commit()
        return values


@dataclass
class Walker:
    app: Flask
    cast: dict[str, User]
    clients: dict[str, tuple[FlaskClient, str]] = field(default_factory=dict)

    def client(self, role: str, *, own: bool = False) -> tuple[FlaskClient, str]:
        """Return a client signed in as the role (anonymous: none) and its CSRF token."""
        if not own and role in self.clients:
            return self.clients[role]
        client = self.app.test_client()
        if role == "anonymous":
            # As a browser gets it: the sign-in page carries the session's CSRF token.
            page = client.get("/login").get_data(as_text=True)
            found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
            assert found, "the sign-in page has no CSRF token"
            token = found[1]
        else:
            token = login(client, self.cast[role])
        if not own:
            self.clients[role] = (client, token)
        return client, token

    def send(
        self, rule: Rule, method: str, role: str, expect: Expect, scene: Scene
    ) -> tuple[TestResponse, list[str]]:
        """Send one request of the walk as the role; return the answer and any error flash."""
        values = scene.fill(rule, expect)
        if expect.lists:
            getattr(scene, expect.lists[0])  # made before the list is asked for
        with self.app.test_request_context():
            url = url_for(rule.endpoint, **values)
        person = self.cast.get(role)
        options = expect.body(scene, person) if expect.body else {}
        db.session.commit()
        client, token = self.client(role, own=expect.session)
        headers = dict(options.pop("headers", {}))
        if method not in SAFE:
            headers["X-CSRF-Token"] = token
            if isinstance(options.get("data"), dict):
                options["data"] = {**options["data"], "csrf_token": token}
        response = client.open(url, method=method, headers=headers, **options)
        # Pages answer a refused form with a redirect and an error flash: read and clear them.
        with client.session_transaction() as session:
            flashes = session.pop("_flashes", [])
        errors = [message for category, message in flashes if category == "error"]
        return response, errors


def outcome(response: TestResponse) -> Outcome:
    """Return the class of an answer: OK, LOGIN, or the status of any other error."""
    status = response.status_code
    if status == 401:
        return LOGIN
    if 300 <= status < 400:
        return LOGIN if urlsplit(response.location).path == "/login" else OK
    return OK if status < 400 else status


def walked_methods(rule: Rule) -> list[str]:
    """Return the methods a rule was declared with (not Flask's automatic HEAD and OPTIONS)."""
    methods = set(rule.methods or ())
    if "GET" in methods:
        methods.discard("HEAD")
    if getattr(rule, "provide_automatic_options", False):
        methods.discard("OPTIONS")
    return sorted(methods)


def walk_order(rules: list[Rule]) -> Iterator[tuple[Rule, str]]:
    """Yield (rule, method): reads, writes, deletes, then what starts or ends sessions."""

    def rank(item: tuple[Rule, str]) -> tuple[int, str, str]:
        rule, method = item
        if ROUTES[rule.endpoint].session:
            return (3, rule.rule, method)
        return (0 if method in SAFE else 2 if method == "DELETE" else 1, rule.rule, method)

    yield from sorted(((r, m) for r in rules for m in walked_methods(r)), key=rank)


@pytest.fixture
def cast(
    walk_app: Flask, district: Callable[..., Organization], make_user: Callable[..., User]
) -> dict[str, User]:
    """The people of the walk, one per role (anonymous is nobody)."""
    home, away = district("home"), district("away")
    return {
        "owner": make_user("teacher", org=home, name="Owner Teacher"),
        "commenter": make_user("coach", org=home, name="Comment Coach"),
        "viewer": make_user("teacher", org=home, name="Viewing Teacher"),
        "revoked": make_user("coach", org=home, name="Revoked Coach"),
        "colleague": make_user("teacher", org=home, name="Same District"),
        "admin": make_user("admin", org=home, name="District Admin"),
        "foreign": make_user("coach", org=away, name="Far Coach"),
    }


@pytest.fixture
def walk_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """The app of the walk: its rtc gateway address answers nothing (as when it is down)."""
    application = make_app(tmp_path, database_url, LOUPE_RTC_PORT=str(free_port()))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def test_every_route_has_an_access_expectation(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(ROUTES))
    assert not missing, "\n".join(
        f"new route {e} has no access expectation: add it to ROUTES in {__name__}" for e in missing
    )
    stale = sorted(set(ROUTES) - endpoints)
    assert not stale, f"ROUTES names endpoints that no longer exist: {stale}"
    for endpoint, expect in ROUTES.items():
        assert set(expect.outcomes) == set(ROLES), endpoint


def test_walk_every_route_as_every_role(walk_app: Flask, cast: dict[str, User]) -> None:
    app = walk_app
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    unknown = sorted({r.endpoint for r in rules} - set(ROUTES))
    assert not unknown, f"new routes with no access expectation: {unknown}: add them to ROUTES"
    walker = Walker(app, cast)
    shared = Scene(cast)  # what reads look at
    denied = {role: Scene(cast) for role in ROLES}  # what a role's refused writes aim at
    problems: list[str] = []
    fixed: list[str] = []
    for role in ROLES:
        for rule, method in walk_order(rules):
            expect = ROUTES[rule.endpoint]
            want = expect.outcomes[role]
            if method in SAFE:
                scene = shared
            elif want in (HIDDEN, REFUSED, LOGIN):
                scene = denied[role]  # a hole changes only this role's objects
            else:
                scene = Scene(cast)  # an allowed write gets objects of its own
            response, flashed = walker.send(rule, method, role, expect, scene)
            got = f"flashed {flashed}" if flashed else outcome(response)
            if expect.lists and got == OK:
                attribute, seen_by = expect.lists
                listed = getattr(scene, attribute) in {item["id"] for item in response.json or []}
                if listed != (role in seen_by):
                    got = LISTED if listed else UNLISTED
            where = f"{method} {rule.rule} ({rule.endpoint}) as {role}"
            if (rule.endpoint, role) in KNOWN_HOLES:
                today, why = KNOWN_HOLES[rule.endpoint, role]
                if got == want:
                    fixed.append(f"{where}: fixed ({why}): remove it from KNOWN_HOLES")
                    continue
                want = today
            if got != want:
                detail = response.get_data(as_text=True)[:160].replace("\n", " ")
                problems.append(
                    f"{where}: got {got} ({response.status_code}), want {want}: {detail}"
                )
    assert not problems + fixed, "\n".join(problems + fixed)
