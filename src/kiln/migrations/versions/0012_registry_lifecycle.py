"""registry lifecycle: one production version per model, one pending approval per version

Revision ID: 0012
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ONE_PRODUCTION = sa.text("stage = 'production'")
_ONE_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index(
        "uq_model_versions_one_production",
        "model_versions",
        ["model_id"],
        unique=True,
        sqlite_where=_ONE_PRODUCTION,
        postgresql_where=_ONE_PRODUCTION,
    )
    op.create_index(
        "uq_model_approvals_one_pending",
        "model_approvals",
        ["version_id"],
        unique=True,
        sqlite_where=_ONE_PENDING,
        postgresql_where=_ONE_PENDING,
    )


def downgrade() -> None:
    op.drop_index("uq_model_approvals_one_pending", table_name="model_approvals")
    op.drop_index("uq_model_versions_one_production", table_name="model_versions")
