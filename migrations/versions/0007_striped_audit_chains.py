"""Audit log in several chains (no global lock), statistics as insert-only counts.

- `audit_events` gets `chain` and `chain_seq`: existing records become chain 0 with
  `chain_seq = seq`, so their MACs verify unchanged. On PostgreSQL `seq` (the place in the
  whole log) comes from the sequence `audit_events_seq` from now on.
- `audit_head` (one row) becomes `audit_heads` (one row per chain); the old head is chain
  0's, with its MAC unchanged. The other chains' heads are created by the service on first
  use (their MACs need the key in `keys/`, which a migration does not read).
- `audit_verifications.first_bad_chain`: which chain a broken run found broken.
- `statistics_counts` loses its primary key: rows are added, never updated, and summed when
  read. Existing counters stay as they are (one row per cell).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.SmallInteger(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('chain_seq', sa.BigInteger(), nullable=True))
    op.execute('UPDATE audit_events SET chain_seq = seq')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('chain_seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index('ux_audit_events_chain_chain_seq', ['chain', 'chain_seq'], unique=True)
    if postgres:
        op.execute('CREATE SEQUENCE audit_events_seq')
        op.execute(
            "SELECT setval('audit_events_seq', max(seq)) FROM audit_events HAVING count(*) > 0"
        )

    op.create_table('audit_heads',
    sa.Column('chain', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.Column('head_mac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain', name=op.f('pk_audit_heads'))
    )
    op.execute(
        'INSERT INTO audit_heads (chain, seq, mac, head_mac) '
        'SELECT 0, seq, mac, head_mac FROM audit_head WHERE id = 1'
    )
    op.drop_table('audit_head')

    with op.batch_alter_table('audit_verifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_bad_chain', sa.SmallInteger(), nullable=True))

    with op.batch_alter_table('statistics_counts', schema=None) as batch_op:
        batch_op.drop_constraint('pk_statistics_counts', type_='primary')
        batch_op.create_index('ix_statistics_counts_month_sector_kind', ['month', 'sector', 'kind'], unique=False)


def downgrade() -> None:
    """Only for a log still in one chain (nothing written since the upgrade); the counts
    are summed back into one row a cell."""
    bind = op.get_bind()
    several = 'SELECT 1 FROM audit_events WHERE chain <> 0 OR seq <> chain_seq LIMIT 1'
    if bind.execute(sa.text(several)).first():
        raise RuntimeError('audit records written in several chains cannot be merged into one')
    op.execute(
        'CREATE TABLE statistics_merged AS SELECT month, sector, kind, sum(count) AS count '
        'FROM statistics_counts GROUP BY month, sector, kind'
    )
    op.execute('DELETE FROM statistics_counts')
    op.execute(
        'INSERT INTO statistics_counts (month, sector, kind, count) '
        'SELECT month, sector, kind, count FROM statistics_merged'
    )
    op.drop_table('statistics_merged')
    with op.batch_alter_table('statistics_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_statistics_counts_month_sector_kind')
        batch_op.create_primary_key('pk_statistics_counts', ['month', 'sector', 'kind'])

    with op.batch_alter_table('audit_verifications', schema=None) as batch_op:
        batch_op.drop_column('first_bad_chain')

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.Column('head_mac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.execute(
        'INSERT INTO audit_head (id, seq, mac, head_mac) '
        'SELECT 1, seq, mac, head_mac FROM audit_heads WHERE chain = 0'
    )
    op.drop_table('audit_heads')
    if bind.dialect.name == 'postgresql':
        op.execute('DROP SEQUENCE audit_events_seq')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ux_audit_events_chain_chain_seq')
        batch_op.drop_column('chain_seq')
        batch_op.drop_column('chain')
