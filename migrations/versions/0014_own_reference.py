"""A professional's own short reference per signal, sealed (issue 14).

- `signals.own_reference_enc`: encrypted like `postponement_justification_enc`, shown only to
  the signal's author.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('signals') as batch:
        batch.add_column(sa.Column('own_reference_enc', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signals') as batch:
        batch.drop_column('own_reference_enc')
