"""the model registry: models, versions and their files, params, metrics, aliases, stage changes, approvals

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiln.core.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "gates",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_by_user_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_registered_models_project_id_projects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_models")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_registered_models_project_id_name")),
    )
    with op.batch_alter_table("registered_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registered_models_project_id"), ["project_id"], unique=False)

    op.create_table(
        "registry_settings",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("allow_single_approver", sa.Boolean(), nullable=False),
        sa.Column("updated_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_registry_settings_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_registry_settings")),
    )
    op.create_table(
        "model_versions",
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("flavor", sa.String(length=32), nullable=False),
        sa.Column("serialization", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=2048), nullable=False),
        sa.Column("source_run_id", sa.String(length=36), nullable=True),
        sa.Column(
            "descriptor",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "environment",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "training_inputs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("storage_prefix", sa.String(length=1024), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column(
            "gate_results",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_by_user_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_model_versions_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_run_id"],
            ["runs.id"],
            name=op.f("fk_model_versions_source_run_id_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("model_id", "label", name=op.f("uq_model_versions_model_id_label")),
        sa.UniqueConstraint("model_id", "number", name=op.f("uq_model_versions_model_id_number")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index("ix_model_versions_model_stage", ["model_id", "stage"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_versions_source_run_id"), ["source_run_id"], unique=False)

    op.create_table(
        "model_aliases",
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("updated_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_model_aliases_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_aliases_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "alias", name=op.f("pk_model_aliases")),
    )
    with op.batch_alter_table("model_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_aliases_version_id"), ["version_id"], unique=False)

    op.create_table(
        "model_approvals",
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("risk_level", sa.String(length=16), nullable=False),
        sa.Column("risk_assessment", sa.Text(), nullable=False),
        sa.Column("requested_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=256), nullable=False),
        sa.Column("requested_by_user_id", sa.String(length=36), nullable=True),
        sa.Column("decided_at", kiln.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=256), nullable=True),
        sa.Column("decided_by_user_id", sa.String(length=36), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_model_approvals_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_approvals_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_approvals")),
    )
    with op.batch_alter_table("model_approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_approvals_model_id"), ["model_id"], unique=False)
        batch_op.create_index("ix_model_approvals_status", ["status", "requested_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_approvals_version_id"), ["version_id"], unique=False)

    op.create_table(
        "model_stage_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("from_stage", sa.String(length=16), nullable=True),
        sa.Column("to_stage", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=256), nullable=False),
        sa.Column("changed_by_user_id", sa.String(length=36), nullable=True),
        sa.Column("approval_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_model_stage_changes_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_stage_changes_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_stage_changes")),
    )
    with op.batch_alter_table("model_stage_changes", schema=None) as batch_op:
        batch_op.create_index("ix_model_stage_changes_model_at", ["model_id", "changed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_stage_changes_version_id"), ["version_id"], unique=False)

    op.create_table(
        "model_version_files",
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_version_files_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "path", name=op.f("pk_model_version_files")),
    )
    op.create_table(
        "model_version_metrics",
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_version_metrics_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "key", name=op.f("pk_model_version_metrics")),
    )
    with op.batch_alter_table("model_version_metrics", schema=None) as batch_op:
        batch_op.create_index("ix_model_version_metrics_key_value", ["key", "value"], unique=False)

    op.create_table(
        "model_version_params",
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.String(length=8000), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_version_params_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "key", name=op.f("pk_model_version_params")),
    )
    with op.batch_alter_table("model_version_params", schema=None) as batch_op:
        batch_op.create_index("ix_model_version_params_key_value", ["key", "value"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("model_version_params", schema=None) as batch_op:
        batch_op.drop_index("ix_model_version_params_key_value")

    op.drop_table("model_version_params")
    with op.batch_alter_table("model_version_metrics", schema=None) as batch_op:
        batch_op.drop_index("ix_model_version_metrics_key_value")

    op.drop_table("model_version_metrics")
    op.drop_table("model_version_files")
    with op.batch_alter_table("model_stage_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_stage_changes_version_id"))
        batch_op.drop_index("ix_model_stage_changes_model_at")

    op.drop_table("model_stage_changes")
    with op.batch_alter_table("model_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_approvals_version_id"))
        batch_op.drop_index("ix_model_approvals_status")
        batch_op.drop_index(batch_op.f("ix_model_approvals_model_id"))

    op.drop_table("model_approvals")
    with op.batch_alter_table("model_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_aliases_version_id"))

    op.drop_table("model_aliases")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_versions_source_run_id"))
        batch_op.drop_index("ix_model_versions_model_stage")

    op.drop_table("model_versions")
    op.drop_table("registry_settings")
    with op.batch_alter_table("registered_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registered_models_project_id"))

    op.drop_table("registered_models")
