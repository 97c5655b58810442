"""Side-by-side comparison of runs."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import Invalid
from kiln.tracking.reads import run_read
from kiln.tracking.schemas import RunComparison
from kiln.tracking.service import get_runs

MAX_COMPARED = 50
_LOWER_IS_BETTER = re.compile(r"(loss|err|error|mse|mae|rmse|mape|latency|time|duration|perplexity)", re.I)


def lower_is_better(metric_key: str) -> bool:
    """Losses and errors improve downwards; everything else (accuracy, f1, auc, ...) upwards."""
    return bool(_LOWER_IS_BETTER.search(metric_key))


def compare_runs(session: Session, actor: Actor, run_ids: Sequence[str]) -> RunComparison:
    unique_ids = list(dict.fromkeys(run_ids))
    if not 1 <= len(unique_ids) <= MAX_COMPARED:
        raise Invalid(f"compare between 1 and {MAX_COMPARED} distinct run ids (ids=a,b,c)")
    runs = [run_read(run) for run in get_runs(session, actor, unique_ids)]
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
