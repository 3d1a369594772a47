"""care after the crisis: program staff (members, a program's access), cases opened from a referral or a
petition (intake, an outcome's facility or plan), records kept for a members-only program, partner updates of a
referral, and familiar neighbors (linkage proposals, reviewers' decisions, flags)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 05:14:56.267291

Existing rows keep their meaning: every program is open, every follow-up came from an encounter with consent.
Going down refuses while a case has no encounter or no consent (those rows cannot exist before this revision).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_FLAG = sa.text("status IN ('pending_review', 'active')")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table('program_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_program_members_added_by_id_users')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_program_members_program_id_programs')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_program_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_program_members')),
    sa.UniqueConstraint('program_id', 'user_id', name='uq_program_members_program_user')
    )
    with op.batch_alter_table('program_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_program_members_user_id'), ['user_id'], unique=False)

    op.create_table('familiar_neighbor_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('neighbor_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending_review', 'active', 'expired', 'ended', name='flagstatus',
        native_enum=False, length=16), nullable=False),
    sa.Column('approach_notes', sa.Text(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_familiar_neighbor_flags_ended_by_id_users')),
    sa.ForeignKeyConstraint(['neighbor_id'], ['neighbors.id'],
        name=op.f('fk_familiar_neighbor_flags_neighbor_id_neighbors')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_familiar_neighbor_flags_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_familiar_neighbor_flags'))
    )
    with op.batch_alter_table('familiar_neighbor_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_familiar_neighbor_flags_neighbor_id'), ['neighbor_id'], unique=False)
        batch_op.create_index('uq_familiar_neighbor_flags_open', ['neighbor_id'], unique=True,
            sqlite_where=OPEN_FLAG, postgresql_where=OPEN_FLAG)

    op.create_table('neighbor_match_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('left_id', sa.Integer(), nullable=False),
    sa.Column('right_id', sa.Integer(), nullable=False),
    sa.Column('same_person', sa.Boolean(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
        name=op.f('fk_neighbor_match_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['left_id'], ['neighbors.id'],
        name=op.f('fk_neighbor_match_decisions_left_id_neighbors')),
    sa.ForeignKeyConstraint(['right_id'], ['neighbors.id'],
        name=op.f('fk_neighbor_match_decisions_right_id_neighbors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_neighbor_match_decisions'))
    )
    with op.batch_alter_table('neighbor_match_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_neighbor_match_decisions_pair', ['left_id', 'right_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_neighbor_match_decisions_right_id'), ['right_id'], unique=False)

    op.create_table('neighbor_match_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('left_id', sa.Integer(), nullable=False),
    sa.Column('right_id', sa.Integer(), nullable=False),
    sa.Column('match_weight', sa.Float(), nullable=False),
    sa.Column('match_probability', sa.Float(), nullable=False),
    sa.Column('contributions', JSON, nullable=False),
    sa.Column('model_version', sa.String(length=32), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'merged', 'accepted', 'rejected', name='proposalstatus',
        native_enum=False, length=16), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
        name=op.f('fk_neighbor_match_proposals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['left_id'], ['neighbors.id'],
        name=op.f('fk_neighbor_match_proposals_left_id_neighbors')),
    sa.ForeignKeyConstraint(['right_id'], ['neighbors.id'],
        name=op.f('fk_neighbor_match_proposals_right_id_neighbors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_neighbor_match_proposals')),
    sa.UniqueConstraint('left_id', 'right_id', name='uq_neighbor_match_proposals_pair')
    )
    with op.batch_alter_table('neighbor_match_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_neighbor_match_proposals_right_id'), ['right_id'], unique=False)
        batch_op.create_index('ix_neighbor_match_proposals_status', ['status', 'match_probability'], unique=False)

    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intake', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('intake_reference', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('intake_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('outcome_facility', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('outcome_plan', sa.Text(), nullable=True))
        batch_op.alter_column('encounter_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('consent_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_follow_ups_program_id'), ['program_id'], unique=False)
        batch_op.create_unique_constraint('uq_follow_ups_intake_token', ['program_id', 'intake_token'])
        batch_op.create_check_constraint("opened_from_something", "encounter_id IS NOT NULL OR intake IS NOT NULL")

    with op.batch_alter_table('neighbors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restricted_to_program_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_neighbors_restricted_to_program_id'), ['restricted_to_program_id'],
            unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_neighbors_restricted_to_program_id_programs'), 'programs',
            ['restricted_to_program_id'], ['id'])

    with op.batch_alter_table('programs', schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column('access', sa.Enum('open', 'members', name='programaccess', native_enum=False,
                                                        length=16), nullable=False, server_default="open"))

    with op.batch_alter_table('referrals', schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column('partner_updated_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None, recreate="never") as batch_op:
        batch_op.drop_column('partner_updated_at')

    with op.batch_alter_table('programs', schema=None, recreate="never") as batch_op:
        batch_op.drop_column('access')

    with op.batch_alter_table('neighbors', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_neighbors_restricted_to_program_id_programs'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_neighbors_restricted_to_program_id'))
        batch_op.drop_column('restricted_to_program_id')

    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_follow_ups_opened_from_something"), type_="check")
        batch_op.drop_constraint('uq_follow_ups_intake_token', type_='unique')
        batch_op.drop_index(batch_op.f('ix_follow_ups_program_id'))
        batch_op.alter_column('consent_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('encounter_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('outcome_plan')
        batch_op.drop_column('outcome_facility')
        batch_op.drop_column('intake_token')
        batch_op.drop_column('intake_reference')
        batch_op.drop_column('intake')

    with op.batch_alter_table('neighbor_match_proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_neighbor_match_proposals_status')
        batch_op.drop_index(batch_op.f('ix_neighbor_match_proposals_right_id'))

    op.drop_table('neighbor_match_proposals')
    with op.batch_alter_table('neighbor_match_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_neighbor_match_decisions_right_id'))
        batch_op.drop_index('ix_neighbor_match_decisions_pair')

    op.drop_table('neighbor_match_decisions')
    with op.batch_alter_table('familiar_neighbor_flags', schema=None) as batch_op:
        batch_op.drop_index("uq_familiar_neighbor_flags_open", sqlite_where=OPEN_FLAG,
                            postgresql_where=OPEN_FLAG)
        batch_op.drop_index(batch_op.f('ix_familiar_neighbor_flags_neighbor_id'))

    op.drop_table('familiar_neighbor_flags')
    with op.batch_alter_table('program_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_program_members_user_id'))

    op.drop_table('program_members')
