"""Signals fed by source systems: which feed keeps a signal, and the source's own reference.

- `signals.feed`: NULL for a signal registered by hand (API, web), `import` for one created by
  `verwijsindex import`, `sync` for one created by `PUT /sync/signals`. A feed only ever
  updates or closes its own signals; a hand-made signal is never closed by a sync.
- `signals.feed_client_id`: the system client whose sync created the signal (sync only). It
  is no foreign key: a revoked client's signals stay, and so does the record of who fed them.
- `signals.external_ref`: a keyed hash (HMAC, key in `keys/`) of the source system's own
  reference, scoped by client or organisation; the reference itself (it may be a pupil
  number) is never stored.
- `ux_signals_active_feed_client_external_ref`: a sync's identity, one active signal per
  (client, reference); also the index of "this client's active signals" for closing the
  absent ones.
- `ix_signals_active_feed_professional`: an import's active signals by professional, for
  closing the ones absent from an organisation's complete file (`import --sync`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('feed_client_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('external_ref', sa.String(length=64), nullable=True))
        batch_op.create_index(
            'ux_signals_active_feed_client_external_ref',
            ['feed_client_id', 'external_ref'],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.create_index(
            'ix_signals_active_feed_professional',
            ['feed', 'professional_id'],
            unique=False,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )


def downgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index('ix_signals_active_feed_professional')
        batch_op.drop_index('ux_signals_active_feed_client_external_ref')
        batch_op.drop_column('external_ref')
        batch_op.drop_column('feed_client_id')
        batch_op.drop_column('feed')
