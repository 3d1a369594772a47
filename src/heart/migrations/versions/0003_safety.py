"""safety: calls handed to dispatch, the program a call is eligible for, exclusion alerts acknowledged by the crew

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Plain columns are added and dropped with ALTER TABLE (SQLite 3.35+), never by rebuilding a table that other
# rows point at. The crew's acknowledgement has no foreign-key constraint for the same reason (SQLite cannot add
# one without a rebuild); the application writes only user ids there.


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("handed_to_dispatch_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("triage_decisions", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("eligible_pathway", sa.String(length=8), nullable=True))
    with op.batch_alter_table("alerts", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("crew_acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("crew_acknowledged_by_id", sa.Integer(), nullable=True))
    # Calls already waiting on a field program were on the board before: they stay there.
    op.execute("UPDATE calls SET handed_to_dispatch_at = received_at WHERE status IN ('triaged', 'assigned')")
    # Decisions made without a fallback were the policy's recommendation itself.
    op.execute("UPDATE triage_decisions SET eligible_pathway = recommended_pathway WHERE fallback IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("crew_acknowledged_by_id")
        batch_op.drop_column("crew_acknowledged_at")
    with op.batch_alter_table("triage_decisions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("eligible_pathway")
    with op.batch_alter_table("calls", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("handed_to_dispatch_at")
