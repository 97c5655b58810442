"""Side-by-side comparison of runs."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import Invalid
from kiln.tracking.models import Run
from kiln.tracking.schemas import RunComparison, RunInputRead, RunRead
from kiln.tracking.service import get_runs, run_artifact_uri

MAX_COMPARED = 50
_LOWER_IS_BETTER = re.compile(r"(loss|err|error|mse|mae|rmse|mape|latency|time|duration|perplexity)", re.I)


def lower_is_better(metric_key: str) -> bool:
    """Losses and errors improve downwards; everything else (accuracy, f1, auc, ...) upwards."""
    return bool(_LOWER_IS_BETTER.search(metric_key))


def to_read(run: Run) -> RunRead:
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


def compare_runs(session: Session, actor: Actor, run_ids: Sequence[str]) -> RunComparison:
    unique_ids = list(dict.fromkeys(run_ids))
    if not 1 <= len(unique_ids) <= MAX_COMPARED:
        raise Invalid(f"compare between 1 and {MAX_COMPARED} distinct run ids (ids=a,b,c)")
    runs = [to_read(run) for run in get_runs(session, actor, unique_ids)]
    param_keys = sorted({key for run in runs for key in run.params})
    metric_keys = sorted({key for run in runs for key in run.metrics})
    differing = [key for key in param_keys if len({run.params.get(key) for run in runs}) > 1]
    best: dict[str, str] = {}
    for key in metric_keys:
        candidates = [
            (run.metrics[key], run.id)
            for run in runs
            if key in run.metrics and run.metrics[key] == run.metrics[key]
        ]
        if candidates:
            pick = min if lower_is_better(key) else max
            best[key] = pick(candidates)[1]
    return RunComparison(
        runs=runs,
        param_keys=param_keys,
        metric_keys=metric_keys,
        differing_params=differing,
        best_by_metric=best,
    )
