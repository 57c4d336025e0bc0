"""Alembic migrations build the schema the models describe, and step back to empty."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

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
