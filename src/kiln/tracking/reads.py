"""Tracking's read models, each built once: the API, the UI and comparisons all call these.

``ExperimentRead.run_count`` and a run's flattened params, metrics and tags are not columns, so
``model_validate`` alone cannot make them; nothing outside this module assembles them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import NotFound
from kiln.core.pagination import Page
from kiln.core.permissions import Permission
from kiln.tracking.access import require_run_access
from kiln.tracking.models import Experiment, LatestMetric, Param, Run, RunInput, RunTag
from kiln.tracking.schemas import ExperimentRead, RunDetail, RunInputRead, RunRead
from kiln.tracking.service import count_runs, run_artifact_uri


def experiment_reads(session: Session, rows: Sequence[Experiment]) -> list[ExperimentRead]:
    """Experiments with their run counts, counted in one query."""
    counts = count_runs(session, [row.id for row in rows])
    return [
        ExperimentRead.model_validate(row).model_copy(update={"run_count": counts.get(row.id, 0)})
        for row in rows
    ]


def experiment_read(session: Session, row: Experiment) -> ExperimentRead:
    return experiment_reads(session, [row])[0]


def experiment_page(session: Session, page: Page[Experiment]) -> Page[ExperimentRead]:
    return page.with_items(experiment_reads(session, page.items))


def run_read(run: Run) -> RunRead:
    return RunRead.model_validate(
        {
            "id": run.id,
            "experiment_id": run.experiment_id,
            "name": run.name,
            "status": run.status,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "parent_run_id": run.parent_run_id,
            "user": run.user,
            "source": run.source,
            # Rows from before store-relative URIs hold the local store's absolute path.
            "artifact_uri": run_artifact_uri(run.artifact_uri, run.id),
            "params": {p.key: p.value for p in run.params},
            "metrics": {m.key: float("nan") if m.value is None else m.value for m in run.latest_metrics},
            "tags": {t.key: t.value for t in run.tags},
            "inputs": [RunInputRead.model_validate(i) for i in run.inputs],
        }
    )


def run_detail(run: Run) -> RunDetail:
    """A run with its captured environment (load it with ``get_run(..., with_environment=True)``)."""
    return RunDetail(**run_read(run).model_dump(), environment=run.environment or {})


def run_page(page: Page[Run]) -> Page[RunRead]:
    return page.with_items([run_read(run) for run in page.items])


def run_detail_by_id(session: Session, actor: Actor, run_id: str) -> RunDetail:
    """One run as the API shows it, read with prepared Core statements (no ORM objects).

    The hot read of a single run (``GET /runs/{id}``, and the answer to every update): five small
    indexed selects cost far less than the ORM's selectin loading of the same rows.
    """
    require_run_access(session, actor, run_id, Permission.runs_read)
    fields, environment = _run_fields(session, run_id)
    return RunDetail.model_validate({**fields, "environment": environment or {}})


def run_read_by_id(session: Session, run_id: str) -> RunRead:
    """The run as ``run_read`` builds it, for a caller that already checked access (``update_run``).

    A ``RunRead``, not a ``RunDetail`` with an empty environment: routes serialize it as built.
    """
    return RunRead.model_validate(_run_fields(session, run_id)[0])


def _run_fields(session: Session, run_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The run's fields as ``RunRead`` takes them, and its recorded environment."""
    connection = session.connection()
    ids = {"run_id": run_id}
    row = connection.execute(_RUN, ids).first()
    if row is None:
        raise NotFound(f"run {run_id!r} not found")
    fields = {
        "id": row.id,
        "experiment_id": row.experiment_id,
        "name": row.name,
        "status": row.status,
        "start_time": row.start_time,
        "end_time": row.end_time,
        "parent_run_id": row.parent_run_id,
        "user": row.user,
        "source": row.source,
        "artifact_uri": run_artifact_uri(row.artifact_uri, row.id),
        "params": dict(connection.execute(_PARAMS, ids).all()),
        "metrics": {
            key: float("nan") if value is None else value for key, value in connection.execute(_METRICS, ids)
        },
        "tags": dict(connection.execute(_TAGS, ids).all()),
        "inputs": [dict(item._mapping) for item in connection.execute(_INPUTS, ids)],
    }
    return fields, row.environment


# Built once: on the request path, constructing a statement costs more than running it.
_RUN_ID: BindParameter[str] = bindparam("run_id")
_RUN = select(
    Run.id,
    Run.experiment_id,
    Run.name,
    Run.status,
    Run.start_time,
    Run.end_time,
    Run.parent_run_id,
    Run.user,
    Run.source,
    Run.artifact_uri,
    Run.environment,
).where(Run.id == _RUN_ID)
_PARAMS = select(Param.key, Param.value).where(Param.run_id == _RUN_ID).order_by(Param.key)
_METRICS = (
    select(LatestMetric.key, LatestMetric.value)
    .where(LatestMetric.run_id == _RUN_ID)
    .order_by(LatestMetric.key)
)
_TAGS = select(RunTag.key, RunTag.value).where(RunTag.run_id == _RUN_ID).order_by(RunTag.key)
_INPUTS = (
    select(RunInput.kind, RunInput.name, RunInput.version, RunInput.digest, RunInput.uri)
    .where(RunInput.run_id == _RUN_ID)
    .order_by(RunInput.id)
)
