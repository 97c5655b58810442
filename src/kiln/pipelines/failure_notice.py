"""Who hears that a pipeline run failed: the pipeline's owners, in the app (and by mail as they chose).

The owners are the members of the pipeline's project whose role there may define pipelines
(``pipelines:write``), and whoever registered the pipeline or asked for the run while still a member.
Sent in the transaction that marks the run failed, so a run that is not recorded failed tells no one.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kiln.auth.projects import project_recipients
from kiln.core.permissions import Permission
from kiln.notify.email import Mailer
from kiln.notify.schemas import NotificationKind
from kiln.notify.service import Recipient, notify


def owners(session: Session, project_id: str, *, also: set[str | None]) -> list[Recipient]:
    members = project_recipients(session, project_id)
    writers = {
        person.user_id
        for person in project_recipients(session, project_id, permission=Permission.pipelines_write)
    }
    return [person for person in members if person.user_id in writers or person.user_id in also]


def run_failed(
    session: Session,
    *,
    project_id: str,
    pipeline: str,
    run_id: str,
    error: str,
    registered_by: str | None,
    requested_by: str | None,
    mailer: Mailer,
) -> int:
    """How many people were told."""
    return notify(
        session,
        owners(session, project_id, also={registered_by, requested_by}),
        kind=NotificationKind.pipeline_run_failed,
        title=f"pipeline {pipeline} run failed",
        body=error,
        link=f"/pipelines/{pipeline}/runs/{run_id}",
        project_id=project_id,
        mailer=mailer,
    )
