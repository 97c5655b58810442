"""ingestion: datasets' ingestion policy and pending rows, staged batches, the quarantine of rows

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiln.core.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild on SQLite); the defaults fill the rows that exist.
    op.add_column("datasets", sa.Column("ingestion", _json(), nullable=False, server_default="{}"))
    op.add_column("datasets", sa.Column("pending_rows", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "dataset_pending_batches",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("records", _json(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_file", sa.String(length=256), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_by_user_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_pending_batches_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_pending_batches")),
    )
    op.create_index(
        op.f("ix_dataset_pending_batches_dataset_id"), "dataset_pending_batches", ["dataset_id"], unique=False
    )
    op.create_table(
        "dataset_quarantine",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("version_id", sa.String(length=36), nullable=True),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("reasons", _json(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fixed", _json(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=256), nullable=False),
        sa.Column("decided_by_user_id", sa.String(length=36), nullable=True),
        sa.Column("decided_at", kiln.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_quarantine_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_quarantine_version_id_dataset_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_quarantine")),
    )
    op.create_index(
        "ix_dataset_quarantine_dataset_status",
        "dataset_quarantine",
        ["dataset_id", "status", "id"],
        unique=False,
    )
    op.create_table(
        "dataset_quarantine_reasons",
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("check", sa.String(length=16), nullable=False),
        sa.Column("column", sa.String(length=512), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["row_id"],
            ["dataset_quarantine.id"],
            name=op.f("fk_dataset_quarantine_reasons_row_id_dataset_quarantine"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_quarantine_reasons")),
    )
    op.create_index(
        op.f("ix_dataset_quarantine_reasons_row_id"), "dataset_quarantine_reasons", ["row_id"], unique=False
    )
    op.create_index(
        "ix_dataset_quarantine_reasons_rule",
        "dataset_quarantine_reasons",
        ["dataset_id", "rule"],
        unique=False,
    )
    op.create_index(
        "ix_dataset_quarantine_reasons_column",
        "dataset_quarantine_reasons",
        ["dataset_id", "column"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_dataset_quarantine_reasons_column", table_name="dataset_quarantine_reasons")
    op.drop_index("ix_dataset_quarantine_reasons_rule", table_name="dataset_quarantine_reasons")
    op.drop_index(op.f("ix_dataset_quarantine_reasons_row_id"), table_name="dataset_quarantine_reasons")
    op.drop_table("dataset_quarantine_reasons")
    op.drop_index("ix_dataset_quarantine_dataset_status", table_name="dataset_quarantine")
    op.drop_table("dataset_quarantine")
    op.drop_index(op.f("ix_dataset_pending_batches_dataset_id"), table_name="dataset_pending_batches")
    op.drop_table("dataset_pending_batches")
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("pending_rows")
        batch.drop_column("ingestion")
