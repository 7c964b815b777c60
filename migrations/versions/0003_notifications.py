"""Notifications: outbox, webhook subscriptions, match follow-up, reminder bookkeeping.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 03:56:25.410692
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('events', sa.String(length=200), nullable=False),
    sa.Column('secret_enc', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['system_clients.id'], name=op.f('fk_webhook_subscriptions_client_id_system_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_subscriptions_client_id'), ['client_id'], unique=False)

    op.create_table('match_follow_ups',
    sa.Column('match_id', sa.Uuid(), nullable=False),
    sa.Column('professional_id', sa.Uuid(), nullable=False),
    sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_match_follow_ups_match_id_matches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['professional_id'], ['professionals.id'], name=op.f('fk_match_follow_ups_professional_id_professionals')),
    sa.PrimaryKeyConstraint('match_id', 'professional_id', name=op.f('pk_match_follow_ups'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('topic', sa.String(length=40), nullable=False),
    sa.Column('professional_id', sa.Uuid(), nullable=True),
    sa.Column('subscription_id', sa.Uuid(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claim_token', sa.Uuid(), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['professional_id'], ['professionals.id'], name=op.f('fk_outbox_professional_id_professionals')),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], name=op.f('fk_outbox_subscription_id_webhook_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['next_attempt_at'], unique=False, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.create_index(batch_op.f('ix_outbox_professional_id'), ['professional_id'], unique=False)
        batch_op.create_index('ix_outbox_status_queued', ['status', 'queued_at'], unique=False)
        batch_op.create_index('ix_outbox_subscription_queued', ['subscription_id', 'queued_at', 'id'], unique=False)

    # Links made before this revision count as made when their match was created.
    with op.batch_alter_table('match_signals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('linked_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        'UPDATE match_signals SET linked_at = '
        '(SELECT created_at FROM matches WHERE matches.id = match_signals.match_id)'
    )
    with op.batch_alter_table('match_signals', schema=None) as batch_op:
        batch_op.alter_column('linked_at', existing_type=sa.DateTime(timezone=True), nullable=False)

    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_reminded_for', sa.Date(), nullable=True))
        batch_op.create_index('ix_signals_review_on', ['review_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index('ix_signals_review_on')
        batch_op.drop_column('review_reminded_for')

    with op.batch_alter_table('match_signals', schema=None) as batch_op:
        batch_op.drop_column('linked_at')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_subscription_queued')
        batch_op.drop_index('ix_outbox_status_queued')
        batch_op.drop_index(batch_op.f('ix_outbox_professional_id'))
        batch_op.drop_index('ix_outbox_due', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    op.drop_table('outbox')
    op.drop_table('match_follow_ups')
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_subscriptions_client_id'))

    op.drop_table('webhook_subscriptions')
