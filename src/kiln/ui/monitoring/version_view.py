"""The deployment page's per-version table: each model version that served the deployment, its
training metric (as the registry holds it) beside its live metric this week.

"This week" is the version's hourly windows of the last seven days weighted by their rows with
ground truth, as in the page's "training vs live" line; the windows of every version are read in
one query. A version that served only earlier still has its row, with no live value this week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.monitoring import service
from kiln.serving.deployment_schemas import DeploymentRead
from kiln.ui.monitoring.deployment_view import WEEK, version_training, weighted
from kiln.ui.monitoring.metric_view import QUALITY


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: int
    serving: bool  # the version the deployment serves now
    metric: str
    training: float | None
    training_name: str | None  # the version's own name for it (training_accuracy, ...)
    live: float | None
    rows: int  # rows with ground truth behind ``live``
    requests: int  # requests the version answered this week


def version_rows(session: Session, actor: Actor, read: DeploymentRead, now: datetime) -> list[VersionRow]:
    """A row per (version, quality metric) the version recorded or was measured on; newest first."""
    week = service.version_windows(
        session,
        actor,
        read.name,
        seconds=3_600,
        start=now - WEEK,
        end=now,
        metrics=["requests", *QUALITY],
    )
    numbers = set(service.served_versions(session, actor, read.name)) | {read.model.version}
    found: list[VersionRow] = []
    for number in sorted(numbers, reverse=True):
        windows = week.get(number, {})
        training = version_training(session, actor, read, number)
        requests = int(sum(point.value or 0 for point in windows.get("requests", [])))
        measured = [metric for metric in QUALITY if metric in training or metric in windows]
        for metric in measured or ["accuracy"]:
            live, rows = weighted(windows.get(metric, []))
            name, value = training.get(metric, (None, None))
            found.append(
                VersionRow(number, number == read.model.version, metric, value, name, live, rows, requests)
            )
    return found
