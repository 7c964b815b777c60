"""Sync runs: a system client's desired state (`PUT /sync/signals`), applied by the worker.

- `sync_runs`: one accepted request, its place in the client's queue (`number`, unique per
  client: runs of one client are applied strictly in that order), its lease (claimed by
  one worker at a time, resumed by another when the lease runs out), progress and report.
- `sync_run_items`: the request's items, validated and pseudonymised before the 202: keyed
  pseudonyms, the keyed digest of `externalRef`, a sealed justification, and whether each
  has been applied. No BSN, no unkeyed hash of one. A sealed copy of `externalRef` is kept
  only while the item may still end up in the report's errors.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sync_runs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('updated', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('closed', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('unchanged', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closing_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.Uuid(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('failure', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['system_clients.id'], name=op.f('fk_sync_runs_client_id_system_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sync_runs_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.create_index('ix_sync_runs_finished_at', ['finished_at'], unique=False)
        batch_op.create_index('ix_sync_runs_open', ['status', 'client_id', 'number'], unique=False, sqlite_where=sa.text("status IN ('queued', 'running')"), postgresql_where=sa.text("status IN ('queued', 'running')"))
        batch_op.create_index('ux_sync_runs_client_id_number', ['client_id', 'number'], unique=True)

    op.create_table('sync_run_items',
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('external_ref', sa.String(length=64), nullable=False),
    sa.Column('external_ref_enc', sa.LargeBinary(), nullable=True),
    sa.Column('professional_id', sa.Uuid(), nullable=True),
    sa.Column('child_pseudonym', sa.String(length=64), nullable=True),
    sa.Column('parent_pseudonyms', sa.String(length=260), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('child_informed', sa.Boolean(), nullable=True),
    sa.Column('parents_informed', sa.Boolean(), nullable=True),
    sa.Column('postponement_reason', sa.String(length=40), nullable=True),
    sa.Column('justification_enc', sa.LargeBinary(), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('problems', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_sync_run_items_run_id_sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'position', name=op.f('pk_sync_run_items'))
    )
    with op.batch_alter_table('sync_run_items', schema=None) as batch_op:
        batch_op.create_index('ix_sync_run_items_pending', ['run_id', 'position'], unique=False, sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))


def downgrade() -> None:
    with op.batch_alter_table('sync_run_items', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_run_items_pending', sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))

    op.drop_table('sync_run_items')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index('ux_sync_runs_client_id_number')
        batch_op.drop_index('ix_sync_runs_open', sqlite_where=sa.text("status IN ('queued', 'running')"), postgresql_where=sa.text("status IN ('queued', 'running')"))
        batch_op.drop_index('ix_sync_runs_finished_at')

    op.drop_table('sync_runs')
