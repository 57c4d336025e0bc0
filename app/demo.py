"""The demo district seeded by the run command: one admin, two coaches, four teachers."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app.accounts import caseloads
from app.accounts import service as accounts
from app.accounts.models import Organization, Role, User
from app.core.extensions import db
from app.feedback import replies as threads
from app.feedback import service as feedback
from app.feedback.schemas import AnnotationIn, ReplyIn
from app.lessons import service as videos
from app.lessons.jobs import make_lesson
from app.lessons.models import Video

DEMO_SLUG = "riverbend-demo"
DEMO_PASSWORD = "loupe-demo"  # noqa: S105  (printed for people trying Loupe; demo data only)


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: Role
    school: int | None = None


PEOPLE = (
    DemoPerson("admin@riverbend.example", "Rosa Alvarez", Role.ADMIN),
    DemoPerson("maya.chen@riverbend.example", "Maya Chen", Role.COACH),
    DemoPerson("david.okafor@riverbend.example", "David Okafor", Role.COACH),
    DemoPerson("ana.lopez@riverbend.example", "Ana López", Role.TEACHER, 0),
    DemoPerson("ben.carter@riverbend.example", "Ben Carter", Role.TEACHER, 0),
    DemoPerson("priya.nair@riverbend.example", "Priya Nair", Role.TEACHER, 1),
    DemoPerson("sam.wilson@riverbend.example", "Sam Wilson", Role.TEACHER, 1),
)
# (owner, title, subject, grade, shared with, permission, seconds)
LESSONS = (
    (
        "ana.lopez@riverbend.example",
        "Fractions on a number line",
        "Math",
        "4",
        "maya.chen@riverbend.example",
        "comment",
        75,
    ),
    ("ana.lopez@riverbend.example", "Morning meeting", "SEL", "4", None, None, 40),
    (
        "ben.carter@riverbend.example",
        "Photosynthesis lab",
        "Science",
        "5",
        "maya.chen@riverbend.example",
        "view",
        60,
    ),
    (
        "priya.nair@riverbend.example",
        "Persuasive writing workshop",
        "ELA",
        "7",
        "david.okafor@riverbend.example",
        "comment",
        60,
    ),
)
CASELOADS = {
    "maya.chen@riverbend.example": ("ana.lopez@riverbend.example", "ben.carter@riverbend.example"),
    "david.okafor@riverbend.example": (
        "priya.nair@riverbend.example",
        "sam.wilson@riverbend.example",
    ),
}


# Feedback on the first lesson, so the player shows what coaching looks like:
# (author, start s, end s or None, dimension, level score or None, kind, visibility, text,
#  replies as (author, text)).
FEEDBACK: tuple[
    tuple[
        str, float, float | None, str | None, int | None, str, str, str, tuple[tuple[str, str], ...]
    ],
    ...,
] = (
    (
        "maya.chen@riverbend.example",
        3.2,
        11.5,
        "Classroom culture",
        4,
        "strength",
        "shared",
        "Your **countdown and call-back** got every student's eyes on you in under ten "
        "seconds. That routine is clearly practised.",
        (("ana.lopez@riverbend.example", "Thank you! We practised it all of September."),),
    ),
    (
        "maya.chen@riverbend.example",
        14.0,
        None,
        "Lesson content",
        3,
        "note",
        "shared",
        "Clear learning target, and you connected it to yesterday's work with unit fractions.",
        (),
    ),
    (
        "maya.chen@riverbend.example",
        21.5,
        30.0,
        "Student engagement",
        2,
        "suggestion",
        "shared",
        "Three students answered all the questions here. Try a quick *turn and talk* before "
        "taking answers, so every student rehearses an explanation:\n"
        "- 30 seconds with a partner\n- then cold-call two pairs",
        (
            ("ana.lopez@riverbend.example", "Good idea. Should I assign the partners first?"),
            ("maya.chen@riverbend.example", "Yes: fixed partners for the week saves time."),
        ),
    ),
    (
        "maya.chen@riverbend.example",
        34.0,
        None,
        "Access to content",
        None,
        "question",
        "shared",
        "How did the students who were still counting on fingers get onto the number line?",
        (),
    ),
    (
        "maya.chen@riverbend.example",
        41.0,
        52.0,
        "Monitoring of student progress",
        3,
        "strength",
        "shared",
        "Circulating with the clipboard and noting who placed 3/4 correctly: great data for "
        "tomorrow's small groups.",
        (),
    ),
    (
        "maya.chen@riverbend.example",
        47.0,
        None,
        "Student engagement",
        None,
        "note",
        "private",
        "Ask Ana in the debrief about the back table; possible seating change.",
        (),
    ),
    (
        "ana.lopez@riverbend.example",
        58.0,
        66.0,
        None,
        None,
        "question",
        "shared",
        "Reflection: I rushed the exit ticket here. Was the pacing OK from your side?",
        (("maya.chen@riverbend.example", "Slightly rushed; let's plan the last 10 minutes."),),
    ),
    (
        "maya.chen@riverbend.example",
        69.0,
        None,
        "Lesson content",
        4,
        "strength",
        "shared",
        "Excellent closing question: *which is bigger, 2/3 or 3/4, and how do you know?*",
        (),
    ),
)


def demo_exists() -> bool:
    """Answer whether the demo district was seeded already."""
    return (
        db.session.scalars(select(Organization).where(Organization.slug == DEMO_SLUG)).first()
        is not None
    )


def seed_demo() -> bool:
    """Seed the demo district once; answer whether anything was created."""
    if demo_exists():
        return False
    org = accounts.create_organization("Riverbend Unified School District", DEMO_SLUG)
    schools = [
        accounts.create_school(org, "Riverbend Elementary School"),
        accounts.create_school(org, "Riverbend Middle School"),
    ]
    users: dict[str, User] = {}
    for person in PEOPLE:
        users[person.email] = accounts.create_user(
            actor=None,
            organization=org,
            email=person.email,
            role=person.role,
            password=DEMO_PASSWORD,
            name=person.name,
            school=schools[person.school] if person.school is not None else None,
        )
    for coach, teachers in CASELOADS.items():
        for teacher in teachers:
            caseloads.assign_coach(None, users[coach], users[teacher])
    if current_app.config["DEMO_LESSONS"]:
        _seed_lessons(users)
    return True


def _seed_lessons(users: dict[str, User]) -> None:
    # The rows exist at once; a job makes each clip with ffmpeg and sends it through the
    # media pipeline, so the server starts immediately and lessons turn ready live.
    for owner, title, subject, grade, coach, permission, seconds in LESSONS:
        video = videos.create_video(users[owner], title=title, subject=subject, grade=grade)
        if coach:
            videos.share_video(users[owner], video.id, coach, permission)
        if title == LESSONS[0][1]:
            _seed_feedback(users, video)
        make_lesson.delay(video.id, seconds)


def _seed_feedback(users: dict[str, User], video: Video) -> None:
    framework = feedback.framework_for(video, users[LESSONS[0][4] or ""])
    dimensions = {d.name: d for d in framework.dimensions} if framework else {}
    for author, start, end, dimension_name, score, kind, visibility, text, replies in FEEDBACK:
        dimension = dimensions.get(dimension_name or "")
        level = (
            next((lv for lv in dimension.levels if lv.score == score), None) if dimension else None
        )
        made = feedback.create_annotation(
            users[author],
            video.id,
            AnnotationIn(
                start_ms=int(start * 1000),
                end_ms=int(end * 1000) if end is not None else None,
                body=text,
                dimension_id=dimension.id if dimension else None,
                level_id=level.id if level else None,
                kind=kind,
                visibility=visibility,
            ),
        )
        for replier, reply in replies:
            threads.add_reply(users[replier], made.id, ReplyIn(body=reply))


def demo_logins() -> list[tuple[str, str, str]]:
    """Return (role, email, name) of every demo person, for the run command to print."""
    return [(p.role.value, p.email, p.name) for p in PEOPLE]
