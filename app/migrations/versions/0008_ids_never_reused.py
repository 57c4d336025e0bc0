"""ids are never reused on SQLite: rebuild the tables with AUTOINCREMENT

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:00:00.000000

Without AUTOINCREMENT, SQLite hands a new row the highest id + 1, so deleting the newest
lesson gave its id (its URLs, its Socket.IO room) to the next one. AUTOINCREMENT can only
be declared when a table is created, so each table is rebuilt (batch "recreate": data,
indexes, constraints and foreign keys copied; env.py turns foreign keys off meanwhile).
sqlite_sequence starts at each table's current max(id): ids deleted before this migration
above that maximum are unknown and cannot be protected; everything from now on is.
PostgreSQL sequences never go back already, so nothing changes there.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Every table with an integer id (login sessions and uploads have random text ids).
TABLES = (
    "organization",
    "school",
    "user",
    "api_token",
    "invitation",
    "coach_assignment",
    "framework",
    "rubric_dimension",
    "rubric_level",
    "video",
    "video_share",
    "annotation",
    "annotation_reply",
    "debrief",
    "debrief_participant",
    "debrief_attendance",
    "debrief_note",
    "live_stream",
    "audit_event",
)


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in TABLES:
        # AUTOINCREMENT is written on the id column, where SQLite takes no constraint name: the
        # primary key is named pk_<table> again only without it (the convention of the models).
        with op.batch_alter_table(
            table,
            recreate="always",
            table_kwargs={"sqlite_autoincrement": autoincrement},
            naming_convention={"pk": "pk_%(table_name)s"},
        ):
            pass
        if autoincrement:
            # The copy already records the highest id it inserted; say so explicitly anyway
            # (a table left empty has nothing to record: its ids start again at 1).
            sequence = sa.table("sqlite_sequence", sa.column("name"), sa.column("seq"))
            top = sa.func.max(sa.column("id"))
            bind.execute(sa.delete(sequence).where(sequence.c.name == table))
            bind.execute(
                sa.insert(sequence).from_select(
                    ["name", "seq"],
                    sa.select(sa.literal(table), top)
                    .select_from(sa.table(table))
                    .having(top.is_not(None)),
                )
            )


def upgrade():
    _rebuild(autoincrement=True)


def downgrade():
    _rebuild(autoincrement=False)
