"""team felt safe: the crew's answer on the clear form, for the responders' own safety figure

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:00:00.000000

One nullable column on responses.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# A plain nullable column, added and dropped with ALTER TABLE (SQLite 3.35+), never by rebuilding responses.


def upgrade() -> None:
    with op.batch_alter_table("responses", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("team_felt_safe", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("team_felt_safe")
