"""Tracking's read models, each built once: the API, the UI and comparisons all call these.

``ExperimentRead.run_count`` and a run's flattened params, metrics and tags are not columns, so
``model_validate`` alone cannot make them; nothing outside this module assembles them again.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from kiln.core.pagination import Page
from kiln.tracking.models import Experiment, Run
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
