"""places and callers: the city's address points, location safety notes, possible duplicates of a call with their
decision, the caller (name, callback number) kept apart from the call, the access log of restricted records other
than a neighbor's, and an index of calls by place

Revision ID: 0011_places_and_callers
Revises: 0009 (the lead re-chains at merge)
Create Date: 2026-12-06 08:31:51.263799

Only new tables and one index: existing rows keep their meaning, and going down drops what this added.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_places_and_callers'
down_revision: str | None = '0010_public_engagement'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('address_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=256), nullable=False),
    sa.Column('address', sa.String(length=256), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('beat', sa.String(length=32), nullable=True),
    sa.Column('source', sa.String(length=256), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_points')),
    sa.UniqueConstraint('key', name=op.f('uq_address_points_key'))
    )
    with op.batch_alter_table('address_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_points_street'), ['street'], unique=False)

    op.create_table('call_callers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('callback', sa.String(length=32), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_callers_call_id_calls')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_call_callers_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_callers')),
    sa.UniqueConstraint('call_id', name=op.f('uq_call_callers_call_id'))
    )
    op.create_table('duplicate_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('other_call_id', sa.Integer(), nullable=False),
    sa.Column('meters', sa.Float(), nullable=False),
    sa.Column('minutes', sa.Float(), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_duplicate_flags_call_id_calls')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_duplicate_flags_decided_by_id_users')),
    sa.ForeignKeyConstraint(['other_call_id'], ['calls.id'], name=op.f('fk_duplicate_flags_other_call_id_calls')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_flags')),
    sa.UniqueConstraint('call_id', 'other_call_id', name='uq_duplicate_flags_pair')
    )
    with op.batch_alter_table('duplicate_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_flags_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_duplicate_flags_other_call_id'), ['other_call_id'], unique=False)

    op.create_table('location_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('address', sa.String(length=256), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_location_notes_author_id_users')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_location_notes_call_id_calls')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_location_notes_ended_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location_notes'))
    )
    with op.batch_alter_table('location_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_location_notes_call_id'), ['call_id'], unique=False)
        batch_op.create_index('ix_location_notes_lat_lon', ['lat', 'lon'], unique=False)

    op.create_table('restricted_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('reader_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_restricted_reads_call_id_calls')),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], name=op.f('fk_restricted_reads_reader_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restricted_reads'))
    )
    with op.batch_alter_table('restricted_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_restricted_reads_call_id'), ['call_id'], unique=False)
        batch_op.create_index('ix_restricted_reads_kind_subject', ['kind', 'subject_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_restricted_reads_reader_id'), ['reader_id'], unique=False)

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_lat_lon', ['lat', 'lon'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_lat_lon')

    with op.batch_alter_table('restricted_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_restricted_reads_reader_id'))
        batch_op.drop_index('ix_restricted_reads_kind_subject')
        batch_op.drop_index(batch_op.f('ix_restricted_reads_call_id'))

    op.drop_table('restricted_reads')
    with op.batch_alter_table('location_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_location_notes_lat_lon')
        batch_op.drop_index(batch_op.f('ix_location_notes_call_id'))

    op.drop_table('location_notes')
    with op.batch_alter_table('duplicate_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_flags_other_call_id'))
        batch_op.drop_index(batch_op.f('ix_duplicate_flags_call_id'))

    op.drop_table('duplicate_flags')
    op.drop_table('call_callers')
    with op.batch_alter_table('address_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_address_points_street'))

    op.drop_table('address_points')
