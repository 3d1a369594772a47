"""the public site's engagement: residents' requests for an event, volunteer sign-ups, and the forms' rate-limit tally

Revision ID: 0010_public_engagement
Revises: 0009
Create Date: 2026-12-06 09:30:00

New tables only. Contact details (name, e-mail, phone, message, organization, place) are erased once a closed
request passes its retention; the database refuses a purged row that still holds any of them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_public_engagement'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = sa.Enum('new', 'contacted', 'scheduled', 'declined', 'done', name='requeststatus', native_enum=False,
                 length=16)
PURGED_SIGNUP = "purged_at IS NULL OR (name IS NULL AND email IS NULL AND phone IS NULL AND message IS NULL)"
PURGED_REQUEST = PURGED_SIGNUP.replace("message IS NULL)",
                                       "message IS NULL AND organization IS NULL AND place IS NULL)")


def upgrade() -> None:
    op.create_table('public_form_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_key', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_form_attempts'))
    )
    op.create_index(op.f('ix_public_form_attempts_at'), 'public_form_attempts', ['at'], unique=False)
    op.create_index('ix_public_form_attempts_client', 'public_form_attempts', ['client_key', 'at'], unique=False)
    op.create_table('engagement_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('event_date', sa.Date(), nullable=False),
    sa.Column('audience', sa.Integer(), nullable=True),
    sa.Column('organization', sa.String(length=160), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('status', STATUS, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.CheckConstraint(PURGED_REQUEST, name=op.f('ck_engagement_requests_purged_has_no_contact')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_engagement_requests_changed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagement_requests'))
    )
    op.create_index('ix_engagement_requests_status', 'engagement_requests', ['status', 'received_at'], unique=False)
    op.create_table('interest_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('interests', sa.String(length=200), nullable=False),
    sa.Column('status', STATUS, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.CheckConstraint(PURGED_SIGNUP, name=op.f('ck_interest_signups_purged_has_no_contact')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_interest_signups_changed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_signups'))
    )
    op.create_index('ix_interest_signups_status', 'interest_signups', ['status', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_interest_signups_status', table_name='interest_signups')
    op.drop_table('interest_signups')
    op.drop_index('ix_engagement_requests_status', table_name='engagement_requests')
    op.drop_table('engagement_requests')
    op.drop_index('ix_public_form_attempts_client', table_name='public_form_attempts')
    op.drop_index(op.f('ix_public_form_attempts_at'), table_name='public_form_attempts')
    op.drop_table('public_form_attempts')
