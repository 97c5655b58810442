"""drift settings: thresholds per registered model (and per version), and the source a report used

Revision ID: 0025
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiln.core.db

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, kiln.core.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "drift_settings",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("model_id", sa.String(36), nullable=False),
        sa.Column("model_version_id", sa.String(36), nullable=True),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("thresholds", _JSON, nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        _time("created_at", False),
        _time("updated_at", False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_drift_settings_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_drift_settings_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_drift_settings_model_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_settings")),
        sa.UniqueConstraint(
            "model_id", "version_number", name=op.f("uq_drift_settings_model_id_version_number")
        ),
    )
    op.create_index(op.f("ix_drift_settings_project_id"), "drift_settings", ["project_id"], unique=False)
    op.create_index(
        op.f("ix_drift_settings_model_version_id"), "drift_settings", ["model_version_id"], unique=False
    )
    with op.batch_alter_table("drift_reports") as batch:
        batch.add_column(sa.Column("thresholds_source", sa.String(400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drift_reports") as batch:
        batch.drop_column("thresholds_source")
    op.drop_index(op.f("ix_drift_settings_model_version_id"), table_name="drift_settings")
    op.drop_index(op.f("ix_drift_settings_project_id"), table_name="drift_settings")
    op.drop_table("drift_settings")
