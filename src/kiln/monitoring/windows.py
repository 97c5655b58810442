"""Computing one window of a deployment's metrics from the prediction log and its feedback.

Traffic (requests, invalid, errors, error rate, latency percentiles) is aggregated in the database
over the log's own index; quality metrics load only the window's predictions that have ground truth.
Each metric is kept per model version and for the deployment as a whole (``model_version_id`` NULL).
A window's rows are replaced as a whole, so computing it twice gives the same rows, never doubles.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, literal_column, select
from sqlalchemy.orm import Session

from kiln.core.errors import Invalid
from kiln.core.ids import utcnow
from kiln.monitoring.live_metrics import CLASSIFIER_METRICS, REGRESSOR_METRICS, Outcomes, outcome_metrics
from kiln.monitoring.models import MetricWindow
from kiln.serving.models import Prediction, PredictionFeedback
from kiln.serving.schemas import PredictionStatus
from kiln.serving.traffic import Latency, latency_percentiles

# The window sizes kept: a minute for live charts, an hour for alert rules, a day for trends.
WINDOW_SIZES = {"1m": 60, "1h": 3_600, "1d": 86_400}
ALL_VERSIONS = None


@dataclass(frozen=True)
class Version:
    id: str | None
    number: int | None


def window_start(moment: datetime, seconds: int) -> datetime:
    """The start of the ``seconds``-wide window on the epoch grid that holds ``moment``."""
    epoch = int(moment.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, UTC)


def check_window(start: datetime, seconds: int) -> None:
    if seconds not in WINDOW_SIZES.values():
        sizes = ", ".join(f"{name} ({value} s)" for name, value in WINDOW_SIZES.items())
        raise Invalid(f"window of {seconds} s is not kept; use one of {sizes}")
    if window_start(start, seconds) != start:
        raise Invalid(
            f"a {seconds} s window starts on a multiple of {seconds} s since the epoch, not at {start}"
        )


def compute_window(
    session: Session, *, project_id: str, deployment: str, seconds: int, start: datetime
) -> list[MetricWindow]:
    """Replace and return the metric rows of one window of ``deployment``."""
    check_window(start, seconds)
    end = start + timedelta(seconds=seconds)
    where = [
        Prediction.deployment == deployment,
        Prediction.project_id == project_id,
        Prediction.created_at >= start,
        Prediction.created_at < end,
    ]
    versions, counts = _counts(session, where)
    latencies = latency_percentiles(session, where, Prediction.model_version_id)
    latencies[ALL_VERSIONS] = latency_percentiles(session, where, literal_column("0")).get(0, Latency())
    outcomes = _outcomes(session, where)
    session.execute(
        delete(MetricWindow).where(
            MetricWindow.project_id == project_id,
            MetricWindow.deployment == deployment,
            MetricWindow.window_seconds == seconds,
            MetricWindow.start == start,
        )
    )
    now = utcnow()
    rows = [
        MetricWindow(
            project_id=project_id,
            deployment=deployment,
            model_version_id=version.id,
            model_version_number=version.number,
            window_seconds=seconds,
            start=start,
            end=end,
            metric=metric,
            value=value,
            samples=samples,
            computed_at=now,
        )
        for version in [Version(ALL_VERSIONS, None), *versions]
        for metric, value, samples in _metrics(
            counts.get(version.id, {}), latencies.get(version.id, Latency()), outcomes.get(version.id)
        )
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _counts(
    session: Session, where: list[ColumnElement[bool]]
) -> tuple[list[Version], dict[str | None, dict[str, int]]]:
    counts: dict[str | None, dict[str, int]] = {ALL_VERSIONS: {}}
    versions: dict[str, Version] = {}
    query = (
        select(Prediction.model_version_id, Prediction.model_version_number, Prediction.status, func.count())
        .where(*where)
        .group_by(Prediction.model_version_id, Prediction.model_version_number, Prediction.status)
    )
    for version_id, number, status, count in session.execute(query):
        for key in {version_id, ALL_VERSIONS}:
            by_status = counts.setdefault(key, {})
            by_status[status] = by_status.get(status, 0) + int(count)
        if version_id is not None:
            versions[version_id] = Version(version_id, number)
    return sorted(versions.values(), key=lambda v: (v.number or 0, v.id or "")), counts


def _outcomes(session: Session, where: list[ColumnElement[bool]]) -> dict[str | None, Outcomes]:
    query = (
        select(Prediction.model_version_id, Prediction.outputs, PredictionFeedback.actual)
        .join(PredictionFeedback, PredictionFeedback.request_id == Prediction.request_id)
        .where(*where, Prediction.status == PredictionStatus.ok.value)
        .order_by(Prediction.seq)
    )
    outcomes: dict[str | None, Outcomes] = {}
    for version_id, outputs, actual in session.execute(query):
        for key in {version_id, ALL_VERSIONS}:
            outcomes.setdefault(key, Outcomes()).add(outputs, actual)
    return outcomes


def _metrics(
    by_status: dict[str, int], latency: Latency, outcomes: Outcomes | None
) -> Iterator[tuple[str, float | None, int]]:
    requests = sum(by_status.values())
    errors = by_status.get(PredictionStatus.error.value, 0)
    invalid = by_status.get(PredictionStatus.invalid.value, 0)
    ok = by_status.get(PredictionStatus.ok.value, 0)
    yield "requests", float(requests), requests
    yield "errors", float(errors), requests
    yield "invalid", float(invalid), requests
    yield "error_rate", errors / requests if requests else None, requests
    for name, value in (
        ("latency_p50", latency.p50),
        ("latency_p95", latency.p95),
        ("latency_p99", latency.p99),
    ):
        yield name, value, ok
    if outcomes is None:
        return
    yield "feedback_rows", float(outcomes.rows), outcomes.rows
    for name, value in outcome_metrics(outcomes).items():
        yield name, value, outcomes.rows


def metric_names() -> list[str]:
    """Every metric a window can hold, traffic first."""
    traffic = ["requests", "errors", "invalid", "error_rate", "latency_p50", "latency_p95", "latency_p99"]
    return [*traffic, "feedback_rows", *CLASSIFIER_METRICS, *REGRESSOR_METRICS]
