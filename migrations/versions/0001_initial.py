"""Initial schema: organisations, professionals, system clients, signals, matches.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 01:54:23.297002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organisations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sector', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    op.create_table('professionals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('name_enc', sa.LargeBinary(), nullable=False),
    sa.Column('email_enc', sa.LargeBinary(), nullable=False),
    sa.Column('phone_enc', sa.LargeBinary(), nullable=False),
    sa.Column('roles', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('totp_secret_enc', sa.LargeBinary(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_professionals_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_professionals'))
    )
    with op.batch_alter_table('professionals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_professionals_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('system_clients',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_system_clients_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_system_clients'))
    )
    with op.batch_alter_table('system_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_system_clients_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('matches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('child_pseudonym', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('regisseur_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['regisseur_id'], ['professionals.id'], name=op.f('fk_matches_regisseur_id_professionals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matches'))
    )
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.create_index('uq_matches_client_child', ['child_pseudonym'], unique=True, sqlite_where=sa.text("type = 'client'"), postgresql_where=sa.text("type = 'client'"))

    op.create_table('signals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('professional_id', sa.Uuid(), nullable=False),
    sa.Column('child_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('archived_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('child_birth_date', sa.Date(), nullable=False),
    sa.Column('child_informed', sa.Boolean(), nullable=False),
    sa.Column('parents_informed', sa.Boolean(), nullable=False),
    sa.Column('postponement_reason', sa.String(length=40), nullable=True),
    sa.Column('postponement_justification_enc', sa.LargeBinary(), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('close_reason', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['professional_id'], ['professionals.id'], name=op.f('fk_signals_professional_id_professionals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals'))
    )
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.create_index('ix_signals_archived_until', ['archived_until'], unique=False)
        batch_op.create_index('ix_signals_child_pseudonym_status', ['child_pseudonym', 'status'], unique=False)
        batch_op.create_index('ix_signals_child_birth_date', ['child_birth_date'], unique=False)
        batch_op.create_index('ix_signals_professional_created', ['professional_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_signals_status_active_until', ['status', 'active_until'], unique=False)
        batch_op.create_index('uq_signals_active_professional_child', ['professional_id', 'child_pseudonym'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('match_signals',
    sa.Column('match_id', sa.Uuid(), nullable=False),
    sa.Column('signal_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_match_signals_match_id_matches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_match_signals_signal_id_signals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('match_id', 'signal_id', name=op.f('pk_match_signals'))
    )
    with op.batch_alter_table('match_signals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_signals_signal_id'), ['signal_id'], unique=False)

    op.create_table('signal_parents',
    sa.Column('signal_id', sa.Uuid(), nullable=False),
    sa.Column('parent_pseudonym', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_signal_parents_signal_id_signals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('signal_id', 'parent_pseudonym', name=op.f('pk_signal_parents'))
    )
    with op.batch_alter_table('signal_parents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signal_parents_parent_pseudonym'), ['parent_pseudonym'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('signal_parents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signal_parents_parent_pseudonym'))

    op.drop_table('signal_parents')
    with op.batch_alter_table('match_signals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_signals_signal_id'))

    op.drop_table('match_signals')
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index('uq_signals_active_professional_child', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index('ix_signals_status_active_until')
        batch_op.drop_index('ix_signals_professional_created')
        batch_op.drop_index('ix_signals_child_birth_date')
        batch_op.drop_index('ix_signals_child_pseudonym_status')
        batch_op.drop_index('ix_signals_archived_until')

    op.drop_table('signals')
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_index('uq_matches_client_child', sqlite_where=sa.text("type = 'client'"), postgresql_where=sa.text("type = 'client'"))

    op.drop_table('matches')
    with op.batch_alter_table('system_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_system_clients_organisation_id'))

    op.drop_table('system_clients')
    with op.batch_alter_table('professionals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_professionals_organisation_id'))

    op.drop_table('professionals')
    op.drop_table('organisations')
