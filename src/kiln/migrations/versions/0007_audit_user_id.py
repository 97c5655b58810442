"""audit records name the acting user, also when an API key acted (``audit_records.user_id``)

Existing records are backfilled: a user's own record from its ``actor_id``, an API key's from the
key's owner in ``api_keys``. Their seal (scheme ``hmac-sha256``) does not cover the new column, so
the chain still verifies; records written from now on (``hmac-sha256-v2``) seal it.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_audit_records_user", ["user_id", "seq"], unique=False)
    op.execute("UPDATE audit_records SET user_id = actor_id WHERE actor_kind = 'user'")
    op.execute(
        "UPDATE audit_records SET user_id = "
        "(SELECT api_keys.user_id FROM api_keys WHERE api_keys.id = audit_records.actor_id) "
        "WHERE actor_kind = 'api_key'"
    )


def downgrade() -> None:
    # Records sealed with hmac-sha256-v2 cover user_id; without the column they no longer verify.
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_records_user")
        batch_op.drop_column("user_id")
