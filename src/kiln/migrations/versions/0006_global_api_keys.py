"""global API keys: api_keys.project_id may be NULL (an admin's key for every project)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("project_id", existing_type=sa.String(length=36), nullable=True)


def downgrade() -> None:
    # Global keys cannot exist in the older schema: they are revoked by being removed.
    op.execute("DELETE FROM api_keys WHERE project_id IS NULL")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("project_id", existing_type=sa.String(length=36), nullable=False)
