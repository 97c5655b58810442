"""schedules: cron schedules that enqueue jobs, and which schedule fire a job stands for

Revision ID: 0022
Revises: 0021
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import kiln.core.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = kiln.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("cron", sa.String(length=120), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("catch_up", sa.String(length=8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_fire_at", UTC, nullable=True),
        sa.Column("last_fired_at", UTC, nullable=True),
        sa.Column("last_job_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_schedules_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_schedules_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("project_id", "name", name="uq_schedules_project_name"),
    )
    op.create_index("ix_schedules_due", "schedules", ["enabled", "next_fire_at"], unique=False)
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("schedule_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("scheduled_for", UTC, nullable=True))
        batch.create_foreign_key(
            op.f("fk_jobs_schedule_id_schedules"), "schedules", ["schedule_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_unique_constraint("uq_jobs_schedule_fire", ["schedule_id", "scheduled_for"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("uq_jobs_schedule_fire", type_="unique")
        batch.drop_constraint(op.f("fk_jobs_schedule_id_schedules"), type_="foreignkey")
        batch.drop_column("scheduled_for")
        batch.drop_column("schedule_id")
    op.drop_index("ix_schedules_due", table_name="schedules")
    op.drop_table("schedules")
