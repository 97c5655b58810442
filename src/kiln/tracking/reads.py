"""Tracking's read models, each built once: the API, the UI and comparisons all call these.

``ExperimentRead.run_count`` and a run's flattened params, metrics and tags are not columns, so
``model_validate`` alone cannot make them; nothing outside this module assembles them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from typing import cast as typed

from sqlalchemy import (
    BindParameter,
    Float,
    Integer,
    Table,
    bindparam,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy import cast as sql_cast
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

    The hot read of a single run (``GET /runs/{id}``, and the answer to every update): two small
    indexed selects (the run with its children in one, the environment) cost far less than the ORM's
    selectin loading of the same rows.
    """
    require_run_access(session, actor, run_id, Permission.runs_read)
    fields = _run_fields(session, run_id)
    return RunDetail.model_validate({**fields, "environment": _environment(session, run_id) or {}})


def run_read_by_id(session: Session, run_id: str) -> RunRead:
    """The run as ``run_read`` builds it, for a caller that already checked access (``update_run``).

    A ``RunRead``, not a ``RunDetail`` with an empty environment: routes serialize it as built.
    """
    return RunRead.model_validate(_run_fields(session, run_id))


def _run_fields(session: Session, run_id: str) -> dict[str, Any]:
    """The run's fields as ``RunRead`` takes them.

    One query: the run's row joined to its params, latest metrics, tags and inputs (a UNION ALL),
    one answer row per child; the environment, which can be large, is read on its own.
    """
    connection = session.connection()
    ids = {"run_id": run_id}
    rows = connection.execute(_RUN_WITH_CHILDREN, ids).all()
    if not rows:
        raise NotFound(f"run {run_id!r} not found")
    row = rows[0]
    params: dict[str, str] = {}
    metrics: dict[str, float] = {}
    tags: dict[str, str] = {}
    inputs: list[dict[str, Any]] = []
    for child in rows:
        part = child.part
        if part == _PARAM:
            params[child.child_key] = child.child_text
        elif part == _METRIC:
            metrics[child.child_key] = float("nan") if child.child_number is None else child.child_number
        elif part == _TAG:
            tags[child.child_key] = child.child_text
        elif part == _INPUT:
            inputs.append(
                {
                    "kind": child.child_key,
                    "name": child.child_text,
                    "version": child.child_version,
                    "digest": child.child_digest,
                    "uri": child.child_uri,
                }
            )
    return {
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
        "params": params,
        "metrics": metrics,
        "tags": tags,
        "inputs": inputs,
    }


def _environment(session: Session, run_id: str) -> dict[str, Any] | None:
    return session.connection().execute(_ENVIRONMENT, {"run_id": run_id}).scalar()


# Built once: on the request path, constructing a statement costs more than running it.
_RUN_ID: BindParameter[str] = bindparam("run_id")
_PARAM, _METRIC, _TAG, _INPUT = 0, 1, 2, 3


def _child(
    part: int,
    key: Any,
    text: Any,
    number: Any,
    where: Any,
    *,
    version: Any = None,
    digest: Any = None,
    uri: Any = None,
    order: Any = None,
) -> Any:
    empty: Any = literal_column("''")
    return select(
        literal_column(str(part), Integer).label("part"),
        key.label("child_key"),
        (text if text is not None else sql_cast(null(), Param.value.type)).label("child_text"),
        (number if number is not None else sql_cast(null(), Float)).label("child_number"),
        (version if version is not None else empty).label("child_version"),
        (digest if digest is not None else empty).label("child_digest"),
        (uri if uri is not None else empty).label("child_uri"),
        (order if order is not None else literal_column("0", Integer)).label("child_order"),
    ).where(where)


_CHILDREN = union_all(
    _child(_PARAM, Param.key, Param.value, None, Param.run_id == _RUN_ID),
    _child(_METRIC, LatestMetric.key, None, LatestMetric.value, LatestMetric.run_id == _RUN_ID),
    _child(_TAG, RunTag.key, RunTag.value, None, RunTag.run_id == _RUN_ID),
    _child(
        _INPUT,
        RunInput.kind,
        RunInput.name,
        None,
        RunInput.run_id == _RUN_ID,
        version=RunInput.version,
        digest=RunInput.digest,
        uri=RunInput.uri,
        order=RunInput.id,
    ),
).subquery("children")
_RUNS = typed(Table, Run.__table__)
_RUN_WITH_CHILDREN = (
    select(
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
        _CHILDREN.c.part,
        _CHILDREN.c.child_key,
        _CHILDREN.c.child_text,
        _CHILDREN.c.child_number,
        _CHILDREN.c.child_version,
        _CHILDREN.c.child_digest,
        _CHILDREN.c.child_uri,
    )
    .select_from(_RUNS.outerjoin(_CHILDREN, true()))
    .where(Run.id == _RUN_ID)
    .order_by(_CHILDREN.c.part, _CHILDREN.c.child_order, _CHILDREN.c.child_key)
)
_ENVIRONMENT = select(Run.environment).where(Run.id == _RUN_ID)
