"""retraining: triggers that start a pipeline run when a deployment drifts or its alert fires

Revision ID: 0024
Revises: 0023
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiln.core.db

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, kiln.core.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "retraining_triggers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("deployment", sa.String(128), nullable=False),
        sa.Column("pipeline_id", sa.String(36), nullable=False),
        sa.Column("pipeline_name", sa.String(128), nullable=False),
        sa.Column("parameters", _JSON, nullable=False),
        sa.Column("on_drift", sa.Boolean(), nullable=False),
        sa.Column("on_alert", sa.Boolean(), nullable=False),
        sa.Column("alert_rules", _JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("cooldown_seconds", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_by_user_id", sa.String(36), nullable=True),
        sa.Column("runs_started", sa.Integer(), nullable=False),
        _time("last_triggered_at"),
        sa.Column("last_run_id", sa.String(36), nullable=True),
        sa.Column("last_outcome", sa.String(500), nullable=True),
        _time("last_outcome_at"),
        _time("created_at", False),
        _time("updated_at", False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_retraining_triggers_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_retraining_triggers_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retraining_triggers")),
        sa.UniqueConstraint(
            "project_id", "deployment", name=op.f("uq_retraining_triggers_project_id_deployment")
        ),
    )
    op.create_index(
        op.f("ix_retraining_triggers_project_id"), "retraining_triggers", ["project_id"], unique=False
    )
    op.create_index(
        op.f("ix_retraining_triggers_pipeline_id"), "retraining_triggers", ["pipeline_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_retraining_triggers_pipeline_id"), table_name="retraining_triggers")
    op.drop_index(op.f("ix_retraining_triggers_project_id"), table_name="retraining_triggers")
    op.drop_table("retraining_triggers")
