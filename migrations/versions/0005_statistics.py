"""Statistics: aggregate counters of signals and matches per month and sector.

Counting starts when this revision is deployed: signals and matches stored before it are
not counted (the counters record events as they happen, see services/statistics.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('statistics_counts',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('sector', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('signals', 'client_matches', 'family_matches')", name=op.f('ck_statistics_counts_kind_known')),
    sa.PrimaryKeyConstraint('month', 'sector', 'kind', name=op.f('pk_statistics_counts'))
    )


def downgrade() -> None:
    op.drop_table('statistics_counts')
