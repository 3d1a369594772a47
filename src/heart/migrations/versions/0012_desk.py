"""the desk: incident numbers in the city's format, notes and messages on a call, units out of service with a
reason, and indexes for the board's search

Revision ID: 0012_desk
Revises: 0009
Create Date: 2026-12-06 08:50:00.000000

Calls already recorded get their incident numbers here, in the order they were received, in the format the city's
desk file gives (the same numbers new calls continue from). Going down drops the numbers, notes and messages.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0012_desk"
down_revision: str | None = "0011_places_and_callers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _numbering() -> tuple[str, ZoneInfo]:
    """The city's incident-number format and the time zone of its calendar (HEART_DESK_FILE, else the city's)."""
    from heart.calls.desk import desk_rules

    rules = desk_rules().incident_number
    return rules.format, rules.zone


def _number_existing_calls() -> None:
    connection = op.get_bind()
    calls = connection.execute(sa.text("SELECT id, received_at FROM calls ORDER BY received_at, id")).all()
    if not calls:
        return
    number_format, zone = _numbering()
    counters: dict[int, int] = defaultdict(int)
    rows = []
    for call_id, received_at in calls:
        when = received_at if isinstance(received_at, datetime) else datetime.fromisoformat(str(received_at))
        year = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(zone).year
        counters[year] += 1
        rows.append({"id": call_id, "number": number_format.format(year=year, seq=counters[year])})
    connection.execute(sa.text("UPDATE calls SET incident_number = :number WHERE id = :id"), rows)
    connection.execute(sa.text('INSERT INTO incident_sequences (year, "last") VALUES (:year, :last)'),
                       [{"year": year, "last": last} for year, last in counters.items()])


def upgrade() -> None:
    op.create_table(
        "incident_sequences",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_incident_sequences")),
    )
    op.create_table(
        "call_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("note", "message", name="notekind", native_enum=False, length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("from_unit", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_token", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_call_notes_author_id_users")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_call_notes_call_id_calls")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_call_notes_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_notes")),
        sa.UniqueConstraint("client_token", name=op.f("uq_call_notes_client_token")),
    )
    op.create_index(op.f("ix_call_notes_call_id"), "call_notes", ["call_id"], unique=False)
    with op.batch_alter_table("calls", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("incident_number", sa.String(length=64), nullable=True))
    _number_existing_calls()
    op.create_index("uq_calls_incident_number", "calls", ["incident_number"], unique=True)
    op.create_index("ix_calls_status_received_at", "calls", ["status", "received_at"], unique=False)
    with op.batch_alter_table("units", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("status_reason", sa.String(length=256), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE units SET status = 'available', status_reason = NULL WHERE status = 'out_of_service'")
    with op.batch_alter_table("units", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("status_reason")
    op.drop_index("ix_calls_status_received_at", table_name="calls")
    op.drop_index("uq_calls_incident_number", table_name="calls")
    with op.batch_alter_table("calls", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("incident_number")
    op.drop_index(op.f("ix_call_notes_call_id"), table_name="call_notes")
    op.drop_table("call_notes")
    op.drop_table("incident_sequences")
