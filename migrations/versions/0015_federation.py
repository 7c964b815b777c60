"""Federation between regions (contract section 11, docs/federation.md).

- region: `federation_pseudonyms` (local pseudonym -> federation pseudonym, and the blinded
  element waiting for the key holder), `federation_published`, `federated_signals` (mirrored
  signals of other regions) and `organisations.region` (their organisations);
- key holder: `keyholder_keys`, `keyholder_usage`;
- hub: `hub_holdings`, `hub_holding_parents`, `hub_notices`;
- every mode: `federation_members`, `federation_member_keys`, `federation_seen_tokens`,
  `federation_state`, `federation_audit`.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 19:13:36.706176
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "federation_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("member", sa.String(length=63), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_audit")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("federation_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_audit_at"), ["at"], unique=False)

    op.create_table(
        "federation_members",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_federation_members")),
    )
    op.create_table(
        "federation_pseudonyms",
        sa.Column("local_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("element", sa.String(length=43), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=True),
        sa.Column("blinded", sa.String(length=43), nullable=True),
        sa.Column("blind_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("local_pseudonym", name=op.f("pk_federation_pseudonyms")),
    )
    with op.batch_alter_table("federation_pseudonyms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_pseudonyms_element"), ["element"], unique=False
        )
        batch_op.create_index(
            "ix_federation_pseudonyms_pending",
            ["created_at"],
            unique=False,
            sqlite_where=sa.text("blinded IS NOT NULL"),
            postgresql_where=sa.text("blinded IS NOT NULL"),
        )

    op.create_table(
        "federation_published",
        sa.Column("child_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("child_pseudonym", name=op.f("pk_federation_published")),
    )
    op.create_table(
        "federation_seen_tokens",
        sa.Column("jti", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_federation_seen_tokens")),
    )
    with op.batch_alter_table("federation_seen_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_seen_tokens_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "federation_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_federation_state")),
    )
    op.create_table(
        "hub_holding_parents",
        sa.Column("region", sa.String(length=63), nullable=False),
        sa.Column("child", sa.String(length=43), nullable=False),
        sa.Column("parent", sa.String(length=43), nullable=False),
        sa.PrimaryKeyConstraint("region", "child", "parent", name=op.f("pk_hub_holding_parents")),
    )
    with op.batch_alter_table("hub_holding_parents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_holding_parents_parent"), ["parent"], unique=False)

    op.create_table(
        "hub_holdings",
        sa.Column("region", sa.String(length=63), nullable=False),
        sa.Column("child", sa.String(length=43), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region", "child", name=op.f("pk_hub_holdings")),
    )
    with op.batch_alter_table("hub_holdings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_holdings_child"), ["child"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_hub_holdings_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "hub_notices",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("region", sa.String(length=63), nullable=False),
        sa.Column("child", sa.String(length=43), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_hub_notices")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("hub_notices", schema=None) as batch_op:
        batch_op.create_index("ix_hub_notices_region_seq", ["region", "seq"], unique=False)

    op.create_table(
        "keyholder_keys",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_keyholder_keys")),
    )
    op.create_table(
        "keyholder_usage",
        sa.Column("member", sa.String(length=63), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("member", "minute", name=op.f("pk_keyholder_usage")),
    )
    op.create_table(
        "federation_member_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("member", sa.String(length=63), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member"],
            ["federation_members.name"],
            name=op.f("fk_federation_member_keys_member_federation_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_federation_member_keys")),
    )
    with op.batch_alter_table("federation_member_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_member_keys_member"), ["member"], unique=False
        )

    op.create_table(
        "federated_signals",
        sa.Column("signal_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=63), nullable=False),
        sa.Column("remote_child", sa.String(length=43), nullable=False),
        sa.Column("remote_ref", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["signal_id"],
            ["signals.id"],
            name=op.f("fk_federated_signals_signal_id_signals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("signal_id", name=op.f("pk_federated_signals")),
    )
    with op.batch_alter_table("federated_signals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federated_signals_remote_child"), ["remote_child"], unique=False
        )
        batch_op.create_index(
            "ux_federated_signals_region_ref", ["region", "remote_ref"], unique=True
        )

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region", sa.String(length=63), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("region")

    with op.batch_alter_table("federated_signals", schema=None) as batch_op:
        batch_op.drop_index("ux_federated_signals_region_ref")
        batch_op.drop_index(batch_op.f("ix_federated_signals_remote_child"))

    op.drop_table("federated_signals")
    with op.batch_alter_table("federation_member_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_member_keys_member"))

    op.drop_table("federation_member_keys")
    op.drop_table("keyholder_usage")
    op.drop_table("keyholder_keys")
    with op.batch_alter_table("hub_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_notices_region_seq")

    op.drop_table("hub_notices")
    with op.batch_alter_table("hub_holdings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_holdings_expires_at"))
        batch_op.drop_index(batch_op.f("ix_hub_holdings_child"))

    op.drop_table("hub_holdings")
    with op.batch_alter_table("hub_holding_parents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_holding_parents_parent"))

    op.drop_table("hub_holding_parents")
    op.drop_table("federation_state")
    with op.batch_alter_table("federation_seen_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_seen_tokens_expires_at"))

    op.drop_table("federation_seen_tokens")
    op.drop_table("federation_published")
    with op.batch_alter_table("federation_pseudonyms", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_pseudonyms_pending")
        batch_op.drop_index(batch_op.f("ix_federation_pseudonyms_element"))

    op.drop_table("federation_pseudonyms")
    op.drop_table("federation_members")
    with op.batch_alter_table("federation_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_audit_at"))

    op.drop_table("federation_audit")
