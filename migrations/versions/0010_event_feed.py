"""The change feed (`GET /api/v1/events`): each organisation's section-7 events.

- `feed_events`: one row per event and organisation, ids only (the `data` its webhooks
  carry), written in the transaction of the event and purged by maintenance after 30 days.
  `seq` numbers rows as they are written; `position`, the place readers page by, is given
  only after commit, in order, so a late commit never lands behind a reader's cursor (see
  `verwijsindex.models.feed`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('feed_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=True),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_feed_events_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_feed_events')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('feed_events', schema=None) as batch_op:
        batch_op.create_index('ix_feed_events_organisation_id_position', ['organisation_id', 'position'], unique=False)
        batch_op.create_index('ix_feed_events_unpositioned', ['seq'], unique=False, postgresql_where=sa.text('position IS NULL'), sqlite_where=sa.text('position IS NULL'))
        batch_op.create_index('ux_feed_events_id', ['id'], unique=True)
        batch_op.create_index('ux_feed_events_position', ['position'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('feed_events', schema=None) as batch_op:
        batch_op.drop_index('ux_feed_events_position')
        batch_op.drop_index('ux_feed_events_id')
        batch_op.drop_index('ix_feed_events_unpositioned')
        batch_op.drop_index('ix_feed_events_organisation_id_position')
    op.drop_table('feed_events')
