"""Alembic migrations build the schema the models describe, and step back to empty."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app import create_app
from app.config import TestConfig
from app.extensions import db
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
    from app.models import Organization, Role, User
    from app.services import videos

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
