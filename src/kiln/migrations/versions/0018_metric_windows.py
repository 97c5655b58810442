"""metric_windows: monitoring's per-window metrics of each deployment and model version

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiln.core.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_windows",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("deployment", sa.String(256), nullable=False),
        sa.Column("model_version_id", sa.String(36), nullable=True),
        sa.Column("model_version_number", sa.Integer(), nullable=True),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("start", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("computed_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_windows")),
    )
    op.create_index(
        "ix_metric_windows_series",
        "metric_windows",
        ["project_id", "deployment", "metric", "window_seconds", "start"],
    )


def downgrade() -> None:
    op.drop_index("ix_metric_windows_series", table_name="metric_windows")
    op.drop_table("metric_windows")
