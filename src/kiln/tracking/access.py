"""Who may see and change which experiments and runs: the experiment's project decides.

Things in a project the actor is not a member of do not exist for them (NotFound, never 403),
so ids from other teams reveal nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kiln.auth.projects import accessible_project_ids, require_project
from kiln.core.actor import Actor
from kiln.core.errors import NotFound
from kiln.core.permissions import Permission
from kiln.tracking.models import Experiment, Run


def require_experiment(
    session: Session, actor: Actor, experiment_id: str, permission: Permission
) -> Experiment:
    experiment = session.get(Experiment, experiment_id)
    if experiment is None:
        raise NotFound(f"experiment {experiment_id!r} not found")
    try:
        require_project(session, actor, experiment.project_id, permission)
    except NotFound:
        raise NotFound(f"experiment {experiment_id!r} not found") from None
    return experiment


def require_run_access(session: Session, actor: Actor, run_id: str, permission: Permission) -> str:
    """Check the actor may ``permission`` on the run; returns the run's experiment id."""
    row = session.execute(
        select(Run.experiment_id, Experiment.project_id)
        .join(Experiment, Experiment.id == Run.experiment_id)
        .where(Run.id == run_id)
    ).first()
    if row is None:
        raise NotFound(f"run {run_id!r} not found")
    try:
        require_project(session, actor, row.project_id, permission)
    except NotFound:
        raise NotFound(f"run {run_id!r} not found") from None
    return str(row.experiment_id)


def visible_experiments(session: Session, actor: Actor, query: Select[Any]) -> Select[Any]:
    """Narrow a query over experiments (or anything joined to them) to the actor's projects."""
    project_ids = accessible_project_ids(session, actor)
    if project_ids is None:
        return query
    return query.where(Experiment.project_id.in_(project_ids))


def visible_experiment_ids(session: Session, actor: Actor) -> Select[Any] | None:
    """A subquery of readable experiment ids, or ``None`` when the actor sees everything."""
    project_ids = accessible_project_ids(session, actor)
    if project_ids is None:
        return None
    return select(Experiment.id).where(Experiment.project_id.in_(project_ids))
