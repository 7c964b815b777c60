"""Feed fingerprints: a second identical sync passes its unchanged items by.

- `signals.feed_fingerprint`: for a signal kept by a sync, a keyed hash (HMAC, key in
  `keys/`) of the item its source last stated for it, as applied. `PUT /sync/signals`
  compares each item's fingerprint with it and need not validate, pseudonymise or queue an
  item that has not changed (`services.sync_unchanged`). NULL for every other signal, and
  cleared when a signal is changed by hand. Keyed, like every other digest here: the item
  holds BSNs, and an unkeyed hash of it could be recomputed from them.
- `sync_run_items.fingerprint`: the same, carried by a queued item to the signal it makes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-09 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_fingerprint', sa.String(length=64), nullable=True))
    with op.batch_alter_table('sync_run_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_run_items', schema=None) as batch_op:
        batch_op.drop_column('fingerprint')
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_column('feed_fingerprint')
