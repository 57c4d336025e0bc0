"""imported feedback is marked, never attributed to the name a document gives

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:50:00.000000

`author_label` replaced the author's name with whatever an imported document said. It is now
`imported_author_name`: the importer is the author, and the name is only the text of the
"imported" mark. Rows that had a label were imported, so they keep it as their mark.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("annotation", "annotation_reply")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("author_label", new_column_name="imported_author_name")


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("imported_author_name", new_column_name="author_label")
