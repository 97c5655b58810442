"""lineage edges between typed nodes (``lineage_edges``)

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiln.core.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lineage_edges",
        sa.Column("project_id", sa.String(length=36), nullable=True),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=512), nullable=False),
        sa.Column("target_kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=512), nullable=False),
        sa.Column("relation", sa.String(length=64), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_edges")),
        sa.UniqueConstraint(
            "source_kind",
            "source_id",
            "target_kind",
            "target_id",
            "relation",
            name=op.f("uq_lineage_edges_source_kind_source_id_target_kind_target_id_relation"),
        ),
    )
    op.create_index("ix_lineage_edges_source", "lineage_edges", ["source_kind", "source_id"], unique=False)
    op.create_index("ix_lineage_edges_target", "lineage_edges", ["target_kind", "target_id"], unique=False)
    op.create_index(op.f("ix_lineage_edges_project_id"), "lineage_edges", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_lineage_edges_project_id"), table_name="lineage_edges")
    op.drop_index("ix_lineage_edges_target", table_name="lineage_edges")
    op.drop_index("ix_lineage_edges_source", table_name="lineage_edges")
    op.drop_table("lineage_edges")
