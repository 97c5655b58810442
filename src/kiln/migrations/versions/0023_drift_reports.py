"""drift_reports: stored drift reports per deployment and window, and their per-feature scores

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiln.core.db

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, kiln.core.db.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "drift_reports",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("deployment", sa.String(256), nullable=False),
        sa.Column("model_version_id", sa.String(36), nullable=True),
        sa.Column("model_version_number", sa.Integer(), nullable=True),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        _time("start"),
        _time("end"),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("dataset_drift", sa.Boolean(), nullable=False),
        sa.Column("prediction_drift", sa.Boolean(), nullable=True),
        sa.Column("drifted_share", sa.Float(), nullable=False),
        sa.Column("retrain_recommended", sa.Boolean(), nullable=False),
        sa.Column("drifted_features", _JSON, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("features", _JSON, nullable=False),
        sa.Column("thresholds", _JSON, nullable=False),
        _time("computed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_reports")),
        sa.UniqueConstraint(
            "project_id",
            "deployment",
            "window_seconds",
            "start",
            name=op.f("uq_drift_reports_project_id_deployment_window_seconds_start"),
        ),
    )
    op.create_table(
        "drift_feature_scores",
        sa.Column("report_id", sa.String(36), nullable=False),
        sa.Column("feature", sa.String(256), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("deployment", sa.String(256), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        _time("start"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("method", sa.String(16), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.Column("psi", sa.Float(), nullable=True),
        sa.Column("current_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["drift_reports.id"],
            name=op.f("fk_drift_feature_scores_report_id_drift_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "feature", name=op.f("pk_drift_feature_scores")),
    )
    op.create_index(
        "ix_drift_feature_scores_series",
        "drift_feature_scores",
        ["project_id", "deployment", "feature", "window_seconds", "start"],
    )


def downgrade() -> None:
    op.drop_index("ix_drift_feature_scores_series", table_name="drift_feature_scores")
    op.drop_table("drift_feature_scores")
    op.drop_table("drift_reports")
