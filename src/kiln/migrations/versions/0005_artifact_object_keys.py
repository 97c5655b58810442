"""run_artifacts record the store key of each version's bytes (a new key per upload)

Existing rows keep the key their bytes were written under: runs/<run_id>/artifacts/<path>.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run_artifacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("object_key", sa.String(length=1100), nullable=True))
    op.execute("UPDATE run_artifacts SET object_key = 'runs/' || run_id || '/artifacts/' || path")
    with op.batch_alter_table("run_artifacts", schema=None) as batch_op:
        batch_op.alter_column("object_key", existing_type=sa.String(length=1100), nullable=False)


def downgrade() -> None:
    # Objects stored under per-upload keys stay where they are; only the column goes.
    with op.batch_alter_table("run_artifacts", schema=None) as batch_op:
        batch_op.drop_column("object_key")
