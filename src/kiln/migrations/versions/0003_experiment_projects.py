"""experiments belong to projects; names unique per project

Existing experiments move into the "default" project (created if missing).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from kiln.core.ids import new_id

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    projects = sa.table(
        "projects",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    default_id = connection.execute(sa.select(projects.c.id).where(projects.c.name == "default")).scalar()
    if default_id is None:
        default_id = new_id()
        now = datetime.now(UTC)
        connection.execute(
            projects.insert().values(
                id=default_id,
                name="default",
                description="Everyone's starting project",
                created_at=now,
                updated_at=now,
            )
        )
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("project_id", sa.String(length=36), nullable=True))
    connection.execute(sa.text("UPDATE experiments SET project_id = :pid"), {"pid": default_id})
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.alter_column("project_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_constraint("uq_experiments_name", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_experiments_project_id_name"), ["project_id", "name"]
        )
        batch_op.create_index(batch_op.f("ix_experiments_project_id"), ["project_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_experiments_project_id_projects"),
            "projects",
            ["project_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_experiments_project_id_projects"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_experiments_project_id"))
        batch_op.drop_constraint(batch_op.f("uq_experiments_project_id_name"), type_="unique")
        batch_op.create_unique_constraint("uq_experiments_name", ["name"])
        batch_op.drop_column("project_id")
