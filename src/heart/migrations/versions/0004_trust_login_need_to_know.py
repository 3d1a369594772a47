"""trust: login throttles, an account's staff member, and indexes for a responder's own calls

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# users.staff_id is added and dropped with ALTER TABLE (SQLite 3.35+), never by rebuilding the table: a rebuild
# drops the old table, which SQLite refuses while other rows point at it.


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal_recorded_for", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttles")),
        sa.UniqueConstraint("key", name=op.f("uq_login_throttles_key")),
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttles_last_failure_at"), ["last_failure_at"], unique=False)

    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a column's foreign key only inline
        op.execute("ALTER TABLE users ADD COLUMN staff_id INTEGER "
                   "CONSTRAINT fk_users_staff_id_staff REFERENCES staff (id)")
    else:
        op.add_column("users", sa.Column("staff_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_users_staff_id_staff"), "users", "staff", ["staff_id"], ["id"])
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.create_index(batch_op.f("ix_users_staff_id"), ["staff_id"], unique=False)
    with op.batch_alter_table("shift_members", schema=None, recreate="never") as batch_op:
        batch_op.create_index(batch_op.f("ix_shift_members_staff_id"), ["staff_id"], unique=False)
    with op.batch_alter_table("shifts", schema=None, recreate="never") as batch_op:
        batch_op.create_index("ix_shifts_unit_starts", ["unit_id", "starts_at"], unique=False)
    with op.batch_alter_table("responses", schema=None, recreate="never") as batch_op:
        batch_op.create_index("ix_responses_unit_dispatched", ["unit_id", "dispatched_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_responses_unit_dispatched")
    with op.batch_alter_table("shifts", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_shifts_unit_starts")
    with op.batch_alter_table("shift_members", schema=None, recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_shift_members_staff_id"))
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_staff_id"))
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_users_staff_id_staff"), "users", type_="foreignkey")
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("staff_id")

    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_last_failure_at"))
    op.drop_table("login_throttles")
