"""Who may see and change which experiments and runs: the experiment's project decides.

Experiments carry ``project_id``; runs (and everything of a run: metrics, params, tags, inputs,
artifacts) reach it through their one parent, the experiment. Both checks are the generic pair of
``auth/projects.py``: things in a project the actor is not a member of do not exist for them
(NotFound, never 403), so ids from other teams reveal nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from kiln.auth.projects import get_in_project, require_in_project, scoped
from kiln.core.actor import Actor
from kiln.core.permissions import Permission
from kiln.tracking.models import Experiment, Run


def require_experiment(
    session: Session, actor: Actor, experiment_id: str, permission: Permission
) -> Experiment:
    return get_in_project(
        session, actor, Experiment, experiment_id, permission, hide_as=f"experiment {experiment_id!r}"
    )


def require_experiment_access(
    session: Session, actor: Actor, experiment_id: str, permission: Permission
) -> str:
    """``require_experiment`` for a caller that needs only the check, not the row (creating a run);
    returns the experiment's project id."""
    project_id = session.connection().execute(_EXPERIMENT_PROJECT, {"experiment_id": experiment_id}).scalar()
    require_in_project(session, actor, project_id, permission, hide_as=f"experiment {experiment_id!r}")
    assert project_id is not None
    return str(project_id)


def require_run_access(session: Session, actor: Actor, run_id: str, permission: Permission) -> str:
    """Check the actor may ``permission`` on the run; returns the run's experiment id."""
    row = session.connection().execute(_RUN_PROJECT, {"run_id": run_id}).first()
    project_id = None if row is None else row.project_id
    require_in_project(session, actor, project_id, permission, hide_as=f"run {run_id!r}")
    assert row is not None
    return str(row.experiment_id)


# Built once: on every run route, constructing the statement cost more than running it.
_EXPERIMENT_PROJECT = select(Experiment.project_id).where(Experiment.id == bindparam("experiment_id"))
_RUN_PROJECT = (
    select(Run.experiment_id, Experiment.project_id)
    .join(Experiment, Experiment.id == Run.experiment_id)
    .where(Run.id == bindparam("run_id"))
)


def visible_runs(session: Session, actor: Actor, query: Select[Any]) -> Select[Any]:
    """Narrow a query over runs to the actor's projects, through the run's experiment."""
    readable = scoped(session, actor, select(Experiment.id), Experiment.project_id)
    if readable.whereclause is None:
        return query  # the actor reads every project: no subquery on the hot search path
    return query.where(Run.experiment_id.in_(readable))
