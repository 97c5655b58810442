"""audit records name the scheme of their hash (keyed HMAC-SHA256 from now on)

Existing records are marked ``sha256`` (the unkeyed legacy chain); the application re-keys them
once at its next start (``kiln.audit.chain.rekey_legacy_records``).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scheme", sa.String(length=16), server_default="sha256", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_column("scheme")
