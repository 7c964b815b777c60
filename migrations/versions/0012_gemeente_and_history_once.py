"""Gemeente on signals, organisations and statistics; history offered once (contract §10).

- `signals.gemeente`: the CBS code of the child's municipality (optional).
- `organisations.default_gemeente`: what its professionals' signals carry by default.
- `statistics_counts.gemeente`: counts per gemeente (NULL where none was named, and for
  every count made before this revision).
- `signals.history_shown_at`: when the author was shown the earlier signals on the child
  (art. 7.1.4.6 lid 2: "uitsluitend en eenmalig"); asking again answers 410 Gone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gemeente', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('history_shown_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_gemeente', sa.String(length=6), nullable=True))
    with op.batch_alter_table('statistics_counts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gemeente', sa.String(length=6), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('statistics_counts', schema=None) as batch_op:
        batch_op.drop_column('gemeente')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('default_gemeente')
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_column('history_shown_at')
        batch_op.drop_column('gemeente')
