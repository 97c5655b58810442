"""Experiments and runs: creation, reads and state changes (batch logging: ``tracking/batches.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import BindParameter, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, undefer

from kiln.audit import service as audit
from kiln.auth.projects import resolve_project, scoped
from kiln.core.actor import Actor
from kiln.core.errors import Conflict, Invalid, InvalidState, NotFound
from kiln.core.ids import new_id, utcnow
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.tracking.access import (
    require_experiment,
    require_experiment_access,
    require_run_access,
    visible_runs,
)
from kiln.tracking.lineage_nodes import inputs_from_tags, record_run_inputs, resolve_inputs
from kiln.tracking.models import Experiment, Run, RunInput, RunTag
from kiln.tracking.schemas import (
    ExperimentCreate,
    ExperimentUpdate,
    RunCreate,
    RunRead,
    RunStatus,
    RunUpdate,
)

LABEL_LENGTH = 256  # runs.user and experiments.created_by

RUN_CHILDREN = (
    selectinload(Run.params),
    selectinload(Run.tags),
    selectinload(Run.latest_metrics),
    selectinload(Run.inputs),
)

# -- experiments ------------------------------------------------------------------------------


def get_experiment(
    session: Session,
    actor: Actor,
    experiment_id: str,
    *,
    permission: Permission = Permission.experiments_read,
) -> Experiment:
    return require_experiment(session, actor, experiment_id, permission)


def find_experiment_by_name(
    session: Session, actor: Actor, name: str, *, project: str | None = None
) -> Experiment | None:
    """By name in one project (default: the actor's key project, else 'default')."""
    project_row = resolve_project(session, actor, project, Permission.experiments_read)
    return session.scalar(
        select(Experiment).where(Experiment.project_id == project_row.id, Experiment.name == name)
    )


def create_experiment(session: Session, actor: Actor, data: ExperimentCreate) -> Experiment:
    project = resolve_project(session, actor, data.project, Permission.experiments_write)
    exists = Conflict(
        f"experiment {data.name!r} exists in project {project.name!r}; choose another name or use it",
        details={"name": data.name, "project": project.name},
    )
    if session.scalar(
        select(Experiment.id).where(Experiment.project_id == project.id, Experiment.name == data.name)
    ):
        raise exists
    experiment = Experiment(
        project_id=project.id,
        name=data.name,
        description=data.description,
        tags=dict(data.tags),
        created_by=actor.label_within(LABEL_LENGTH),
    )
    session.add(experiment)
    try:
        session.flush()
    except IntegrityError as exc:
        # Another request created the name since the check; the unit of work rolls back.
        raise exists from exc
    audit.record(
        session,
        actor,
        "experiment.created",
        "experiment",
        experiment.id,
        {"name": data.name, "project_id": project.id},
    )
    return experiment


def update_experiment(
    session: Session, actor: Actor, experiment_id: str, data: ExperimentUpdate
) -> Experiment:
    experiment = get_experiment(session, actor, experiment_id, permission=Permission.experiments_write)
    if data.description is not None:
        experiment.description = data.description
    if data.tags is not None:
        experiment.tags = {**experiment.tags, **data.tags}
    session.flush()
    audit.record(
        session, actor, "experiment.updated", "experiment", experiment.id, data.model_dump(exclude_none=True)
    )
    return experiment


def list_experiments(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    name: str | None = None,
    project: str | None = None,
) -> Page[Experiment]:
    """Newest first, only from projects the actor belongs to."""
    query = scoped(
        session,
        actor,
        select(Experiment).order_by(Experiment.created_at.desc(), Experiment.id.desc()),
        Experiment.project_id,
    )
    if project:
        query = query.where(
            Experiment.project_id == resolve_project(session, actor, project, Permission.experiments_read).id
        )
    if name:
        query = query.where(Experiment.name == name)
    return paginate(session, query, page)


def count_runs(session: Session, experiment_ids: Sequence[str]) -> dict[str, int]:
    if not experiment_ids:
        return {}
    rows = session.execute(
        select(Run.experiment_id, func.count())
        .where(Run.experiment_id.in_(experiment_ids))
        .group_by(Run.experiment_id)
    )
    return dict(rows.all())


def count_child_runs(session: Session, actor: Actor, run_id: str) -> int:
    """How many runs name ``run_id`` as their parent (children live in the parent's experiment)."""
    require_run_access(session, actor, run_id, Permission.runs_read)
    return session.scalar(select(func.count()).select_from(Run).where(Run.parent_run_id == run_id)) or 0


def child_runs(session: Session, actor: Actor, run_id: str, *, limit: int) -> list[Run]:
    """The first ``limit`` children of ``run_id``, oldest first (a pipeline run's training steps)."""
    require_run_access(session, actor, run_id, Permission.runs_read)
    query = (
        select(Run)
        .where(Run.parent_run_id == run_id)
        .order_by(Run.start_time, Run.id)
        .limit(limit)
        .options(*RUN_CHILDREN)
    )
    return list(session.scalars(query))


# -- runs ------------------------------------------------------------------------------------


def get_run(session: Session, actor: Actor, run_id: str, *, with_environment: bool = False) -> Run:
    require_run_access(session, actor, run_id, Permission.runs_read)
    options = [*RUN_CHILDREN, undefer(Run.environment)] if with_environment else list(RUN_CHILDREN)
    run = session.scalar(select(Run).where(Run.id == run_id).options(*options))
    if run is None:
        raise NotFound(f"run {run_id!r} not found")
    return run


def get_runs(session: Session, actor: Actor, run_ids: Sequence[str]) -> list[Run]:
    """The runs in the order asked for; ``NotFound`` names every id that does not exist (for the actor)."""
    query = visible_runs(session, actor, select(Run).where(Run.id.in_(run_ids)))
    rows = {run.id: run for run in session.scalars(query.options(*RUN_CHILDREN))}
    missing = [run_id for run_id in run_ids if run_id not in rows]
    if missing:
        raise NotFound(f"runs not found: {', '.join(missing)}", details={"missing": missing})
    return [rows[run_id] for run_id in run_ids]


def create_run(session: Session, actor: Actor, data: RunCreate, *, artifact_root_url: str) -> RunRead:
    """A new running run, answered as the API shows it (built from what was written: nothing is read back)."""
    project_id = require_experiment_access(session, actor, data.experiment_id, Permission.runs_write)
    if data.parent_run_id is not None:
        # Access first: another project's run answers exactly like one that does not exist.
        try:
            parent_experiment = require_run_access(session, actor, data.parent_run_id, Permission.runs_read)
        except NotFound:
            raise NotFound(f"parent run {data.parent_run_id!r} not found") from None
        if parent_experiment != data.experiment_id:
            raise Invalid("a child run must belong to its parent's experiment")
    # Inputs naming a dataset version Kiln holds are pinned to it (``@latest`` becomes its number).
    inputs = resolve_inputs(session, project_id, data.inputs)
    run_id = new_id()
    name = data.name or f"run-{run_id[-8:]}"
    row = {
        "id": run_id,
        "experiment_id": data.experiment_id,
        "name": name,
        "status": RunStatus.running.value,
        "start_time": data.start_time or utcnow(),
        "end_time": None,
        "parent_run_id": data.parent_run_id,
        # The authenticated identity, never a name the client declares.
        "user": actor.label_within(LABEL_LENGTH),
        "source": data.source,
        "artifact_uri": run_artifact_uri(artifact_root_url, run_id),
    }
    # Core inserts of exactly what the answer shows: no ORM objects to build, flush and read back.
    connection = session.connection()
    connection.execute(_INSERT_RUN, {**row, "environment": data.environment})
    tags = [{"run_id": run_id, "key": key, "value": value} for key, value in data.tags.items()]
    if tags:
        connection.execute(_INSERT_TAG, tags)
    input_rows = [resolved.item.model_dump() for resolved in inputs]
    if input_rows:
        connection.execute(_INSERT_INPUT, [{"run_id": run_id, **item} for item in input_rows])
    inputs += resolve_inputs(session, project_id, inputs_from_tags(data.tags.items()))
    record_run_inputs(session, actor, run_id=run_id, project_id=project_id, inputs=inputs)
    audit.record(
        session, actor, "run.created", "run", run_id, {"experiment_id": data.experiment_id, "name": name}
    )
    return RunRead.model_validate({**row, "tags": dict(data.tags), "inputs": input_rows})


def run_artifact_uri(location: str, run_id: str) -> str:
    """Where a run's artifacts live: a URL for remote stores, store-relative for a local folder.

    ``location`` is the store's root URL, or a URI already recorded for the run. A local store's
    absolute path says how the server's disk is laid out; readers need only the key.
    """
    relative = f"runs/{run_id}/artifacts"
    if "://" not in location or location.startswith("file://"):
        return relative
    location = location.rstrip("/")
    return location if location.endswith(f"/{relative}") else f"{location}/{relative}"


def _current_status(session: Session, run_id: str) -> str:
    status = session.connection().execute(_STATUS, {"run_id": run_id}).scalar()
    if status is None:
        raise NotFound(f"run {run_id!r} not found")
    return status


def _finish(session: Session, run_id: str, status: RunStatus, end_time: datetime | None) -> bool:
    """Move a running run to ``status``; False when it had already left 'running' (nothing written)."""
    values = {"run_id": run_id, "status": status.value, "end_time": end_time or utcnow()}
    return bool(session.connection().execute(_FINISH, values).rowcount)


def end_run(session: Session, run_id: str, status: RunStatus) -> bool:
    """End a running run for a job that owns it (a pipeline run's tracking run): no actor, no audit
    (the job is bookkeeping; the request that started the run was audited). False: it had ended."""
    return _finish(session, run_id, status, None)


def update_run(session: Session, actor: Actor, run_id: str, data: RunUpdate) -> None:
    """Rename, or end a run. Ending is one conditional write, so of racing requests exactly one wins;
    repeating the transition the run already made (an SDK retry) succeeds without a second record."""
    require_run_access(session, actor, run_id, Permission.runs_write)
    changes = data.model_dump(exclude_none=True, mode="json")
    if data.status is not None:
        moved = data.status.is_terminal and _finish(session, run_id, data.status, data.end_time)
        current = data.status.value if moved else _current_status(session, run_id)
        if current != data.status.value:
            raise InvalidState(
                f"run {run_id!r} is already {current}; a finished run cannot change status",
                details={"status": current},
            )
        if not moved:
            # Already in the asked-for status: nothing changes, not even the end time.
            changes.pop("status")
            changes.pop("end_time", None)
    # Access was checked above; the answer is read afresh by the caller (tracking.reads). Ending a
    # run (the common update) is done: the row is loaded only for a rename or a new end time.
    if data.name is not None or (data.status is None and data.end_time is not None):
        run = session.get(Run, run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} not found")
        if data.name is not None:
            run.name = data.name
        if data.status is None and data.end_time is not None:
            run.end_time = data.end_time
        session.flush()
    if changes:
        audit.record(session, actor, "run.updated", "run", run_id, changes)


def check_running(
    session: Session, actor: Actor, run_id: str, *, permission: Permission = Permission.runs_write
) -> None:
    """Refuse early (before reading an upload) unless the run is running; takes no lock.

    Only a fast answer for the client: whatever is then recorded still passes ``require_running``.
    """
    require_run_access(session, actor, run_id, permission)
    status = _current_status(session, run_id)
    if status != RunStatus.running.value:
        raise _not_running(run_id, status)


def _not_running(run_id: str, status: str) -> InvalidState:
    return InvalidState(
        f"run {run_id!r} is {status}; data can only be logged to a running run", details={"status": status}
    )


def require_running(
    session: Session, actor: Actor, run_id: str, *, permission: Permission = Permission.runs_write
) -> None:
    """Refuse unless the run is running, and keep it running until this transaction ends.

    The check is a write to the run's row (``status = status WHERE status = 'running'``): it takes
    the row's lock (PostgreSQL) or the write lock (SQLite) now, so a concurrent finish waits for
    this transaction, or has already committed and the check fails.
    """
    require_run_access(session, actor, run_id, permission)
    result = session.connection().execute(_HOLD_RUNNING, {"run_id": run_id})
    if not result.rowcount:
        raise _not_running(run_id, _current_status(session, run_id))


# Built once: these run on every batch (a Core statement on the connection, no ORM bulk update).
_RUN_ID: BindParameter[str] = bindparam("run_id")
_RUNS = cast(Table, Run.__table__)
_STATUS = select(Run.status).where(Run.id == _RUN_ID)
_FINISH = (
    update(_RUNS)
    .where(_RUNS.c.id == _RUN_ID, _RUNS.c.status == RunStatus.running.value)
    .values(status=bindparam("status"), end_time=bindparam("end_time"))
)
_INSERT_RUN = insert(_RUNS)
_INSERT_TAG = insert(cast(Table, RunTag.__table__))
_INSERT_INPUT = insert(cast(Table, RunInput.__table__))
_HOLD_RUNNING = (
    update(_RUNS)
    .where(_RUNS.c.id == _RUN_ID, _RUNS.c.status == RunStatus.running.value)
    .values(status=_RUNS.c.status)
)
