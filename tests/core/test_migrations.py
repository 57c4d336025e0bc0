"""Alembic migrations build the schema the models describe, and step back to empty."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import Connection, Engine, Integer, inspect, text

from app import create_app
from app.accounts.models import User
from app.core.config import TestConfig
from app.core.extensions import db
from app.lessons.models import Video
from tests.conftest import instance_env


def test_upgrade_from_empty_matches_the_models_and_downgrades_to_empty(
    tmp_path: Path, database_url: str
) -> None:
    app = create_app(TestConfig(instance_env(tmp_path, database_url)))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], "models changed without a migration: " + repr(diff)
        tables = set(inspect(db.engine).get_table_names())
        assert {"user", "video", "video_share", "audit_event", "coach_assignment"} <= tables

        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

        upgrade()  # and up again: the downgrade left nothing behind that blocks it
        assert "video" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_upgrading_a_database_with_data(tmp_path: Path, database_url: str) -> None:
    from app.accounts.models import Organization, Role, User
    from app.lessons import service as videos

    app = create_app(TestConfig(instance_env(tmp_path, database_url)))
    with app.app_context():
        upgrade(revision="0001")
        # Rows as an install at 0001 has them (services of today would touch newer tables).
        org = Organization(name="Kept", slug="kept")
        db.session.add(org)
        db.session.flush()
        teacher = User(organization_id=org.id, email="t@kept.example", name="T", role=Role.TEACHER)
        db.session.add(teacher)
        db.session.commit()
        with db.engine.begin() as conn:  # a row written by the 0001 schema, as an old install has
            conn.execute(
                text(
                    "INSERT INTO video (owner_id, organization_id, title, status, processing, "
                    "created_at, updated_at) VALUES (:owner, :org, 'Old lesson', 'ready', '{}', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"owner": teacher.id, "org": org.id},
            )
        db.session.remove()
        upgrade()
        (video,) = videos.list_videos(teacher)
        assert (video.title, video.source_bytes, video.source_sha256) == ("Old lesson", 0, None)
        db.session.remove()
        db.engine.dispose()


def _schema(engine: Engine) -> dict[str, Any]:
    """Return every table's columns, keys, indexes and constraints as the database reports them."""
    found = inspect(engine)
    return {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in found.get_columns(table)
            ],
            "pk": found.get_pk_constraint(table),
            "fks": sorted(map(repr, found.get_foreign_keys(table))),
            "indexes": sorted(map(repr, found.get_indexes(table))),
            "unique": sorted(map(repr, found.get_unique_constraints(table))),
            "checks": sorted(map(repr, found.get_check_constraints(table))),
        }
        for table in found.get_table_names()
        if table != "alembic_version"
    }


def _integer_id_tables() -> set[str]:
    return {
        t.name
        for t in db.metadata.sorted_tables
        if [c.name for c in t.primary_key.columns] == ["id"] and isinstance(t.c.id.type, Integer)
    }


def test_every_table_with_an_integer_id_never_reuses_ids_on_sqlite() -> None:
    tables = _integer_id_tables()
    assert {"video", "user", "annotation", "debrief", "live_stream", "framework"} <= tables
    assert [
        t for t in sorted(tables) if not db.metadata.tables[t].kwargs.get("sqlite_autoincrement")
    ] == []


def _add_video(conn: Connection, owner: int, org: int, title: str) -> int:
    return int(
        conn.execute(
            text(
                "INSERT INTO video (owner_id, organization_id, title, status, processing, "
                "created_at, updated_at, source_bytes, annotation_seq) VALUES (:owner, :org, "
                ":title, 'ready', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0, 0) RETURNING id"
            ),
            {"owner": owner, "org": org, "title": title},
        ).scalar_one()
    )


def test_a_deleted_lessons_id_is_never_given_again_after_the_upgrade(
    tmp_path: Path, database_url: str
) -> None:
    from app.accounts.models import Organization, Role
    from app.lessons import service as videos

    app = create_app(TestConfig(instance_env(tmp_path, database_url)))
    with app.app_context():
        upgrade(revision="0007")
        org = Organization(name="Kept", slug="kept")
        db.session.add(org)
        db.session.flush()
        teacher = User(organization_id=org.id, email="t@kept.example", name="T", role=Role.TEACHER)
        db.session.add(teacher)
        db.session.commit()
        teacher_id, org_id = teacher.id, org.id
        with db.engine.begin() as conn:
            first, second, third = (
                _add_video(conn, teacher_id, org_id, f"Lesson {n}") for n in range(3)
            )
            conn.execute(
                text(
                    "INSERT INTO annotation (video_id, author_id, seq, start_ms, body, kind, "
                    "visibility, ever_shared, created_at) VALUES (:v, :a, 1, 0, 'Kept', 'note', "
                    "'shared', true, CURRENT_TIMESTAMP)"
                ),
                {"v": second, "a": teacher_id},
            )
        db.session.remove()
        before = _schema(db.engine)

        upgrade()
        # Rebuilding the tables kept every row, key, index and constraint (SQLite writes
        # AUTOINCREMENT on the id column, where a primary key has no name).
        after = _schema(db.engine)
        if database_url.startswith("sqlite"):
            for table in _integer_id_tables():
                assert after[table]["pk"] == {"constrained_columns": ["id"], "name": None}
                after[table]["pk"] = before[table]["pk"]
        assert after == before
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT title FROM video ORDER BY id")).scalars().all() == [
                "Lesson 0",
                "Lesson 1",
                "Lesson 2",
            ]
            assert conn.execute(text("SELECT video_id FROM annotation")).scalar_one() == second
            if database_url.startswith("sqlite"):
                tables = conn.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
                ).all()
                plain = {name for name, sql in tables if "AUTOINCREMENT" not in sql}
                assert plain & _integer_id_tables() == set()
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        # The newest lesson is deleted: its id (URLs, Socket.IO room) never comes back.
        owner = db.session.get(User, teacher_id)
        assert owner is not None
        videos.delete_video(owner, third)
        assert videos.create_video(owner, title="After").id > third
        db.session.remove()

        downgrade(revision="0007")  # and back, with the rows
        assert _schema(db.engine) == before
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM video")).scalar_one() == 3
            assert conn.execute(text("SELECT video_id FROM annotation")).scalar_one() == second
        assert first < second
        db.engine.dispose()


def test_ids_of_deleted_rows_are_never_reused(
    any_db_app: Flask, make_user: Callable[..., User], make_video: Callable[..., Video]
) -> None:
    from app.lessons import service as videos

    teacher = make_user("teacher")
    made = [make_video(teacher, title=f"Lesson {n}").id for n in range(3)]
    videos.delete_video(teacher, made[-1])
    assert make_video(teacher, title="Next").id > made[-1]
