"""What the deployment's monitoring page, its live refresh and its CSV downloads read, via services.

The metric windows come from ``monitoring.service`` in one query; the model version's training
metrics from the registry (left out for a caller who may not read models); the comparison
"0.93 at training, 0.88 this week" weighs the served version's hourly windows of the last seven
days by their rows with ground truth, which for accuracy is exactly the week's accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import KilnError
from kiln.core.pagination import PageParams
from kiln.core.permissions import Permission
from kiln.monitoring import alert_incidents, service
from kiln.monitoring.alert_schemas import IncidentRead, IncidentState
from kiln.monitoring.schemas import MetricPoint
from kiln.registry import reads
from kiln.registry import service as registry
from kiln.serving import deployments
from kiln.serving.deployment_schemas import DeploymentRead
from kiln.ui.monitoring.metric_view import CHARTED, QUALITY, ChartTable, chart_tables
from kiln.ui.monitoring.windows import WindowChoice

WEEK = timedelta(days=7)
OPEN_INCIDENTS = 50


@dataclass(frozen=True, slots=True)
class TrainingComparison:
    metric: str
    training: float
    training_name: str  # the version's own name for it (training_accuracy, accuracy, ...)
    live: float | None
    rows: int


@dataclass(slots=True)
class DeploymentView:
    deployment: DeploymentRead
    window: WindowChoice
    tables: list[ChartTable]
    latest: dict[str, MetricPoint]
    comparisons: list[TrainingComparison] = field(default_factory=list)
    incidents: list[IncidentRead] = field(default_factory=list)

    @property
    def latest_end(self) -> datetime | None:
        return max((point.end for point in self.latest.values()), default=None)


def _training_names(metric: str) -> list[str]:
    names = [metric, f"test_{metric}", f"val_{metric}", f"training_{metric}"]
    if metric == "auc":
        names += ["roc_auc", "test_roc_auc", "val_roc_auc", "training_roc_auc"]
    return names


def training_metrics(recorded: dict[str, float | None]) -> dict[str, tuple[str, float]]:
    """``{live metric: (recorded name, value)}`` for the quality metrics the version recorded."""
    found: dict[str, tuple[str, float]] = {}
    for metric in QUALITY:
        for name in _training_names(metric):
            value = recorded.get(name)
            if value is not None:
                found[metric] = (name, value)
                break
    return found


def _version_metrics(session: Session, actor: Actor, read: DeploymentRead) -> dict[str, tuple[str, float]]:
    return version_training(session, actor, read, read.model.version)


def version_training(
    session: Session, actor: Actor, read: DeploymentRead, number: int
) -> dict[str, tuple[str, float]]:
    """The quality metrics version ``number`` of the deployment's model recorded (registry/tracking)."""
    if not actor.may(Permission.models_read):
        return {}
    try:
        found = registry.get_version(session, actor, read.model.name, str(number), project=read.project_id)
    except KilnError:  # the version was deleted since, or the caller is not in the model's project
        return {}
    return training_metrics(reads.version_read(session, found).metrics)


def weighted(points: list[MetricPoint]) -> tuple[float | None, int]:
    rows = sum(point.samples for point in points if point.value is not None)
    if not rows:
        return None, 0
    return sum(point.value * point.samples for point in points if point.value is not None) / rows, rows


def _comparisons(
    session: Session,
    actor: Actor,
    read: DeploymentRead,
    training: dict[str, tuple[str, float]],
    now: datetime,
) -> list[TrainingComparison]:
    if not training:
        return []
    week = service.deployment_windows(
        session,
        actor,
        read.name,
        seconds=3_600,
        start=now - WEEK,
        end=now,
        metrics=list(training),
        version=read.model.version,
    )
    compared = []
    for metric, (name, value) in training.items():
        live, rows = weighted(week.get(metric, []))
        compared.append(TrainingComparison(metric, value, name, live, rows))
    return compared


def load_view(
    session: Session, actor: Actor, name: str, window: WindowChoice, now: datetime, *, full: bool = True
) -> DeploymentView:
    """The page's data; ``full=False`` (the live refresh) skips the week's training comparison."""
    [read] = deployments.describe(
        session, [deployments.get_deployment(session, actor, name, Permission.monitors_read)]
    )
    windows = service.deployment_windows(
        session, actor, name, seconds=window.seconds, start=now - window.span, end=now, metrics=CHARTED
    )
    training = _version_metrics(session, actor, read)
    view = DeploymentView(
        deployment=read,
        window=window,
        tables=chart_tables(windows, {metric: value for metric, (_, value) in training.items()}),
        latest={metric: points[-1] for metric, points in windows.items() if points},
    )
    if full:
        view.comparisons = _comparisons(session, actor, read, training, now)
    if actor.may(Permission.alerts_read):
        found = alert_incidents.list_incidents(
            session, actor, PageParams(limit=OPEN_INCIDENTS), state=IncidentState.firing, deployment=name
        )
        view.incidents = [IncidentRead.model_validate(row) for row in found.items]
    return view
