"""resolution note: a phone clinician's note on a call resolved by phone, kept with the call (not in events)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# A plain column, added and dropped with ALTER TABLE (SQLite 3.35+), never by rebuilding the calls table.


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("resolution_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("resolution_note")
