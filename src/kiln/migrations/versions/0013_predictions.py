"""predictions: the prediction log and ground-truth feedback

Revision ID: 0013
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiln.core.db

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("deployment", sa.String(length=256), nullable=False),
        sa.Column("deployment_id", sa.String(length=36), nullable=True),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("model_name", sa.String(length=256), nullable=False),
        sa.Column("model_version_id", sa.String(length=36), nullable=True),
        sa.Column("model_version_number", sa.Integer(), nullable=True),
        sa.Column("inputs", JSON, nullable=True),
        sa.Column("outputs", JSON, nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("caller", sa.String(length=256), nullable=False),
        sa.Column("caller_user_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_predictions")),
        sa.UniqueConstraint("request_id", name=op.f("uq_predictions_request_id")),
    )
    op.create_index(
        "ix_predictions_deployment_created_at", "predictions", ["deployment", "created_at"], unique=False
    )
    op.create_index("ix_predictions_model_version_id", "predictions", ["model_version_id"], unique=False)
    op.create_index(
        "ix_predictions_project_created_at", "predictions", ["project_id", "created_at"], unique=False
    )
    op.create_table(
        "prediction_feedback",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("actual", JSON, nullable=False),
        sa.Column("values", JSON, nullable=True),
        sa.Column("received_at", kiln.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=256), nullable=False),
        sa.Column("received_by_user_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["predictions.request_id"],
            name=op.f("fk_prediction_feedback_request_id_predictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_prediction_feedback")),
    )


def downgrade() -> None:
    op.drop_table("prediction_feedback")
    op.drop_index("ix_predictions_project_created_at", table_name="predictions")
    op.drop_index("ix_predictions_model_version_id", table_name="predictions")
    op.drop_index("ix_predictions_deployment_created_at", table_name="predictions")
    op.drop_table("predictions")
