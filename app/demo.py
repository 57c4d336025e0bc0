"""The demo district seeded by the run command: one admin, two coaches, four teachers."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Organization, Role, User
from app.services import accounts, videos

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
            accounts.assign_coach(None, users[coach], users[teacher])
    if current_app.config["DEMO_LESSONS"]:
        _seed_lessons(users)
    return True


def _seed_lessons(users: dict[str, User]) -> None:
    # The rows exist at once; a job makes each clip with ffmpeg and sends it through the
    # media pipeline, so the server starts immediately and lessons turn ready live.
    from app.jobs.demo import make_lesson

    for owner, title, subject, grade, coach, permission, seconds in LESSONS:
        video = videos.create_video(users[owner], title=title, subject=subject, grade=grade)
        if coach:
            videos.share_video(users[owner], video.id, coach, permission)
        make_lesson.delay(video.id, seconds)


def demo_logins() -> list[tuple[str, str, str]]:
    """Return (role, email, name) of every demo person, for the run command to print."""
    return [(p.role.value, p.email, p.name) for p in PEOPLE]
