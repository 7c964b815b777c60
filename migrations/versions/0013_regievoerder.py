"""The regievoerder's gemeenten and the matches they checked (contract §10, Jeugdwet 7.1.3.2).

- `professional_gemeenten`: the gemeenten (CBS codes) assigned to a regievoerder; none
  assigned means the whole index.
- `match_checks`: that contact in a match was checked, by whom and when.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'professional_gemeenten',
        sa.Column('professional_id', sa.Uuid(), nullable=False),
        sa.Column('gemeente', sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(['professional_id'], ['professionals.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('professional_id', 'gemeente'),
    )
    op.create_index(
        op.f('ix_professional_gemeenten_gemeente'), 'professional_gemeenten', ['gemeente']
    )
    op.create_table(
        'match_checks',
        sa.Column('match_id', sa.Uuid(), nullable=False),
        sa.Column('checked_by', sa.Uuid(), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['checked_by'], ['professionals.id']),
        sa.ForeignKeyConstraint(['match_id'], ['matches.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('match_id'),
    )


def downgrade() -> None:
    op.drop_table('match_checks')
    op.drop_index(op.f('ix_professional_gemeenten_gemeente'), table_name='professional_gemeenten')
    op.drop_table('professional_gemeenten')
