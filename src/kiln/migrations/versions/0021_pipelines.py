"""pipelines: pipelines, their versions, runs and step runs

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiln.core.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, kiln.core.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "pipelines",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_by_user_id", sa.String(36), nullable=True),
        _time("created_at", False),
        _time("updated_at", False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_pipelines_project_id_projects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipelines")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_pipelines_project_id_name")),
    )
    op.create_index(op.f("ix_pipelines_project_id"), "pipelines", ["project_id"])
    op.create_table(
        "pipeline_versions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("pipeline_id", sa.String(36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("spec", _JSON, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_by_user_id", sa.String(36), nullable=True),
        _time("created_at", False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_versions_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_versions")),
        sa.UniqueConstraint("pipeline_id", "number", name=op.f("uq_pipeline_versions_pipeline_id_number")),
    )
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("pipeline_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("version_id", sa.String(36), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("parameters", _JSON, nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("tracking_run_id", sa.String(36), nullable=True),
        sa.Column("triggered_by", sa.String(300), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        _time("created_at", False),
        _time("started_at"),
        _time("finished_at"),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_by_user_id", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_runs_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_pipeline_runs_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["pipeline_versions.id"],
            name=op.f("fk_pipeline_runs_version_id_pipeline_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
    )
    op.create_index("ix_pipeline_runs_pipeline_created", "pipeline_runs", ["pipeline_id", "created_at"])
    op.create_index(op.f("ix_pipeline_runs_project_id"), "pipeline_runs", ["project_id"])
    op.create_table(
        "pipeline_step_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("function", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        _time("started_at"),
        _time("finished_at"),
        sa.Column("wall_seconds", sa.Float(), nullable=True),
        sa.Column("cpu_seconds", sa.Float(), nullable=True),
        sa.Column("peak_memory_bytes", sa.BigInteger(), nullable=True),
        sa.Column("output", _JSON, nullable=True),
        sa.Column("cache_key", sa.String(64), nullable=True),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("log", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pipeline_runs.id"],
            name=op.f("fk_pipeline_step_runs_run_id_pipeline_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_step_runs")),
        sa.UniqueConstraint("run_id", "name", name=op.f("uq_pipeline_step_runs_run_id_name")),
    )
    op.create_index("ix_pipeline_step_runs_cache", "pipeline_step_runs", ["cache_key", "state"])
    op.create_table(
        "pipeline_triggers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("pipeline_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("dataset_name", sa.String(128), nullable=False),
        sa.Column("parameters", _JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        _time("created_at", False),
        _time("updated_at", False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_triggers_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_pipeline_triggers_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_triggers")),
        sa.UniqueConstraint(
            "pipeline_id", "dataset_name", name=op.f("uq_pipeline_triggers_pipeline_id_dataset_name")
        ),
    )
    op.create_index("ix_pipeline_triggers_dataset", "pipeline_triggers", ["project_id", "dataset_name"])


def downgrade() -> None:
    op.drop_index("ix_pipeline_triggers_dataset", table_name="pipeline_triggers")
    op.drop_table("pipeline_triggers")
    op.drop_index("ix_pipeline_step_runs_cache", table_name="pipeline_step_runs")
    op.drop_table("pipeline_step_runs")
    op.drop_index(op.f("ix_pipeline_runs_project_id"), table_name="pipeline_runs")
    op.drop_index("ix_pipeline_runs_pipeline_created", table_name="pipeline_runs")
    op.drop_table("pipeline_runs")
    op.drop_table("pipeline_versions")
    op.drop_index(op.f("ix_pipelines_project_id"), table_name="pipelines")
    op.drop_table("pipelines")
