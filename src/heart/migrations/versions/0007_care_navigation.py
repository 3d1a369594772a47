"""care navigation: neighbors (records, links to calls, consents, the access log) and follow-ups (contact
attempts, notes, needs, referrals to HSDS services)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:37:12.958014

New tables only; nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table("neighbors",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("first_name", sa.String(length=80), nullable=True),
    sa.Column("last_name", sa.String(length=80), nullable=True),
    sa.Column("aliases", JSON, nullable=False),
    sa.Column("date_of_birth", sa.Date(), nullable=True),
    sa.Column("phone", sa.String(length=32), nullable=True),
    sa.Column("address", sa.String(length=256), nullable=True),
    sa.Column("language", sa.String(length=64), nullable=True),
    sa.Column("contact_method", sa.String(length=32), nullable=True),
    sa.Column("contact_times", sa.String(length=256), nullable=True),
    sa.Column("pronouns", sa.String(length=32), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by_id", sa.Integer(), nullable=True),
    sa.Column("merged_into_id", sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_neighbors_created_by_id_users")),
    sa.ForeignKeyConstraint(["merged_into_id"], ["neighbors.id"], name=op.f("fk_neighbors_merged_into_id_neighbors")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_neighbors"))
    )
    with op.batch_alter_table("neighbors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_neighbors_merged_into_id"), ["merged_into_id"], unique=False)

    op.create_table("neighbor_reads",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("neighbor_id", sa.Integer(), nullable=False),
    sa.Column("reader_id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("purpose", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(["neighbor_id"], ["neighbors.id"], name=op.f("fk_neighbor_reads_neighbor_id_neighbors")),
    sa.ForeignKeyConstraint(["reader_id"], ["users.id"], name=op.f("fk_neighbor_reads_reader_id_users")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_neighbor_reads"))
    )
    with op.batch_alter_table("neighbor_reads", schema=None) as batch_op:
        batch_op.create_index("ix_neighbor_reads_neighbor_at", ["neighbor_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_neighbor_reads_reader_id"), ["reader_id"], unique=False)

    op.create_table("neighbor_consents",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("neighbor_id", sa.Integer(), nullable=False),
    sa.Column("purpose", sa.String(length=32), nullable=False),
    sa.Column("provider_name", sa.String(length=256), nullable=True),
    sa.Column("provider_organization_id", sa.String(length=36), nullable=True),
    sa.Column("encounter_id", sa.Integer(), nullable=True),
    sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_by_id", sa.Integer(), nullable=True),
    sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(["encounter_id"], ["encounters.id"],
                            name=op.f("fk_neighbor_consents_encounter_id_encounters")),
    sa.ForeignKeyConstraint(["neighbor_id"], ["neighbors.id"], name=op.f("fk_neighbor_consents_neighbor_id_neighbors")),
    sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_neighbor_consents_recorded_by_id_users")),
    sa.ForeignKeyConstraint(["withdrawn_by_id"], ["users.id"], name=op.f("fk_neighbor_consents_withdrawn_by_id_users")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_neighbor_consents"))
    )
    with op.batch_alter_table("neighbor_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_neighbor_consents_neighbor_id"), ["neighbor_id"], unique=False)

    op.create_table("neighbor_links",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("neighbor_id", sa.Integer(), nullable=False),
    sa.Column("call_id", sa.Integer(), nullable=False),
    sa.Column("encounter_id", sa.Integer(), nullable=True),
    sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("linked_by_id", sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_neighbor_links_call_id_calls")),
    sa.ForeignKeyConstraint(["encounter_id"], ["encounters.id"],
                            name=op.f("fk_neighbor_links_encounter_id_encounters")),
    sa.ForeignKeyConstraint(["linked_by_id"], ["users.id"], name=op.f("fk_neighbor_links_linked_by_id_users")),
    sa.ForeignKeyConstraint(["neighbor_id"], ["neighbors.id"], name=op.f("fk_neighbor_links_neighbor_id_neighbors")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_neighbor_links")),
    sa.UniqueConstraint("neighbor_id", "call_id", name="uq_neighbor_links_neighbor_call")
    )
    with op.batch_alter_table("neighbor_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_neighbor_links_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_neighbor_links_encounter_id"), ["encounter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_neighbor_links_neighbor_id"), ["neighbor_id"], unique=False)

    op.create_table("follow_ups",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("neighbor_id", sa.Integer(), nullable=False),
    sa.Column("encounter_id", sa.Integer(), nullable=False),
    sa.Column("program_id", sa.Integer(), nullable=True),
    sa.Column("consent_id", sa.Integer(), nullable=False),
    sa.Column("status", sa.Enum("awaiting_contact", "in_contact", "closed",
              name="followupstatus", native_enum=False), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("opened_by_id", sa.Integer(), nullable=True),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("outcome", sa.String(length=32), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("closed_by_id", sa.Integer(), nullable=True),
    sa.Column("supervisor_alerted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("alert_acknowledged_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("alert_acknowledged_by_id", sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'closed') = (outcome IS NOT NULL AND closed_at IS NOT NULL)",
                       name=op.f("ck_follow_ups_closed_with_outcome")),
    sa.ForeignKeyConstraint(["alert_acknowledged_by_id"], ["users.id"],
                            name=op.f("fk_follow_ups_alert_acknowledged_by_id_users")),
    sa.ForeignKeyConstraint(["closed_by_id"], ["users.id"], name=op.f("fk_follow_ups_closed_by_id_users")),
    sa.ForeignKeyConstraint(["consent_id"], ["neighbor_consents.id"],
                            name=op.f("fk_follow_ups_consent_id_neighbor_consents")),
    sa.ForeignKeyConstraint(["encounter_id"], ["encounters.id"], name=op.f("fk_follow_ups_encounter_id_encounters")),
    sa.ForeignKeyConstraint(["neighbor_id"], ["neighbors.id"], name=op.f("fk_follow_ups_neighbor_id_neighbors")),
    sa.ForeignKeyConstraint(["opened_by_id"], ["users.id"], name=op.f("fk_follow_ups_opened_by_id_users")),
    sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_follow_ups_program_id_programs")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
    sa.UniqueConstraint("encounter_id", "neighbor_id", name="uq_follow_ups_encounter_neighbor")
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_ups_encounter_id"), ["encounter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_neighbor_id"), ["neighbor_id"], unique=False)
        batch_op.create_index("ix_follow_ups_status_due", ["status", "due_at"], unique=False)

    op.create_table("contact_attempts",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("follow_up_id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("method", sa.String(length=32), nullable=False),
    sa.Column("result", sa.String(length=32), nullable=False),
    sa.Column("reached", sa.Boolean(), nullable=False),
    sa.Column("by_id", sa.Integer(), nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("client_token", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_contact_attempts_by_id_users")),
    sa.ForeignKeyConstraint(["follow_up_id"], ["follow_ups.id"],
                            name=op.f("fk_contact_attempts_follow_up_id_follow_ups")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_attempts")),
    sa.UniqueConstraint("follow_up_id", "client_token", name="uq_contact_attempts_client_token")
    )
    with op.batch_alter_table("contact_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_attempts_follow_up_id"), ["follow_up_id"], unique=False)

    op.create_table("follow_up_needs",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("follow_up_id", sa.Integer(), nullable=False),
    sa.Column("need", sa.String(length=64), nullable=False),
    sa.Column("source", sa.String(length=16), nullable=False),
    sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("noted_by_id", sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(["follow_up_id"], ["follow_ups.id"],
                            name=op.f("fk_follow_up_needs_follow_up_id_follow_ups")),
    sa.ForeignKeyConstraint(["noted_by_id"], ["users.id"], name=op.f("fk_follow_up_needs_noted_by_id_users")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_needs")),
    sa.UniqueConstraint("follow_up_id", "need", name="uq_follow_up_needs_need")
    )
    with op.batch_alter_table("follow_up_needs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_up_needs_follow_up_id"), ["follow_up_id"], unique=False)

    op.create_table("follow_up_notes",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("follow_up_id", sa.Integer(), nullable=False),
    sa.Column("author_id", sa.Integer(), nullable=True),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("client_token", sa.String(length=64), nullable=False),
    sa.Column("struck_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("struck_by_id", sa.Integer(), nullable=True),
    sa.Column("strike_reason", sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_follow_up_notes_author_id_users")),
    sa.ForeignKeyConstraint(["follow_up_id"], ["follow_ups.id"],
                            name=op.f("fk_follow_up_notes_follow_up_id_follow_ups")),
    sa.ForeignKeyConstraint(["struck_by_id"], ["users.id"], name=op.f("fk_follow_up_notes_struck_by_id_users")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_notes")),
    sa.UniqueConstraint("follow_up_id", "client_token", name="uq_follow_up_notes_client_token")
    )
    with op.batch_alter_table("follow_up_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_up_notes_follow_up_id"), ["follow_up_id"], unique=False)

    op.create_table("referrals",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("follow_up_id", sa.Integer(), nullable=False),
    sa.Column("need", sa.String(length=64), nullable=False),
    sa.Column("service_id", sa.String(length=36), nullable=False),
    sa.Column("service_name", sa.Text(), nullable=False),
    sa.Column("organization_id", sa.String(length=36), nullable=False),
    sa.Column("organization_name", sa.Text(), nullable=False),
    sa.Column("consent_id", sa.Integer(), nullable=False),
    sa.Column("status", sa.Enum("made", "accepted", "completed", "declined", "no_response",
              name="referralstatus", native_enum=False, length=16), nullable=False),
    sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("made_by_id", sa.Integer(), nullable=True),
    sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("no_response_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("client_token", sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(["consent_id"], ["neighbor_consents.id"],
                            name=op.f("fk_referrals_consent_id_neighbor_consents")),
    sa.ForeignKeyConstraint(["follow_up_id"], ["follow_ups.id"], name=op.f("fk_referrals_follow_up_id_follow_ups")),
    sa.ForeignKeyConstraint(["made_by_id"], ["users.id"], name=op.f("fk_referrals_made_by_id_users")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    sa.UniqueConstraint("follow_up_id", "client_token", name="uq_referrals_client_token")
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_follow_up_id"), ["follow_up_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_service_id"), ["service_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_service_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_follow_up_id"))

    op.drop_table("referrals")
    with op.batch_alter_table("follow_up_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_notes_follow_up_id"))

    op.drop_table("follow_up_notes")
    with op.batch_alter_table("follow_up_needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_needs_follow_up_id"))

    op.drop_table("follow_up_needs")
    with op.batch_alter_table("contact_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_attempts_follow_up_id"))

    op.drop_table("contact_attempts")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index("ix_follow_ups_status_due")
        batch_op.drop_index(batch_op.f("ix_follow_ups_neighbor_id"))
        batch_op.drop_index(batch_op.f("ix_follow_ups_encounter_id"))

    op.drop_table("follow_ups")
    with op.batch_alter_table("neighbor_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_neighbor_links_neighbor_id"))
        batch_op.drop_index(batch_op.f("ix_neighbor_links_encounter_id"))
        batch_op.drop_index(batch_op.f("ix_neighbor_links_call_id"))

    op.drop_table("neighbor_links")
    with op.batch_alter_table("neighbor_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_neighbor_consents_neighbor_id"))

    op.drop_table("neighbor_consents")
    with op.batch_alter_table("neighbor_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_neighbor_reads_reader_id"))
        batch_op.drop_index("ix_neighbor_reads_neighbor_at")

    op.drop_table("neighbor_reads")
    with op.batch_alter_table("neighbors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_neighbors_merged_into_id"))

    op.drop_table("neighbors")
