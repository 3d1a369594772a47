"""dispatch: board alerts, action tokens, safety-timer thresholds, crew check-ins, unit positions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:05:31.610476
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
# The three plain columns are added and dropped with ALTER TABLE (SQLite 3.35+), never by rebuilding the table:
# a rebuild drops the old table, which SQLite refuses while other rows point at it (users → units).


def upgrade() -> None:
    op.create_table(
        "action_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_action_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_tokens")),
        sa.UniqueConstraint("token", name=op.f("uq_action_tokens_token")),
    )
    with op.batch_alter_table("action_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_tokens_created_at"), ["created_at"], unique=False)

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(length=256), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["acknowledged_by_id"], ["users.id"], name=op.f("fk_alerts_acknowledged_by_id_users")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_alerts_call_id_calls")),
        sa.ForeignKeyConstraint(["raised_by_id"], ["users.id"], name=op.f("fk_alerts_raised_by_id_users")),
        sa.ForeignKeyConstraint(["response_id"], ["responses.id"], name=op.f("fk_alerts_response_id_responses")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_alerts_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("key", name=op.f("uq_alerts_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_acknowledged_at"), ["acknowledged_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_response_id"), ["response_id"], unique=False)

    with op.batch_alter_table("programs", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("safety_timers", JSON, nullable=True))
    with op.batch_alter_table("responses", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("units", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("position_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("units", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("position_at")
    with op.batch_alter_table("responses", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("checked_in_at")
    with op.batch_alter_table("programs", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("safety_timers")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_response_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_call_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_acknowledged_at"))
    op.drop_table("alerts")
    with op.batch_alter_table("action_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_tokens_created_at"))
    op.drop_table("action_tokens")
