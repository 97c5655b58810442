"""What the deployment page shows of its stored drift reports, read through services: the newest
reports, the latest one's advice, every feature's PSI over the charts' range and one feature's
reference-vs-current histogram (chosen with ``?feature=``; by default the most drifted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.pagination import PageParams
from kiln.monitoring import drift_history, drift_reports
from kiln.monitoring.drift_schemas import (
    DRIFT_WINDOW_SECONDS,
    DriftReportFilter,
    DriftReportRead,
    DriftReportSummary,
    DriftThresholds,
    DriftWindow,
    FeatureDrift,
)
from kiln.ui.monitoring.drift_charts import DriftScoresTable, HistogramTable, histogram_table, scores_table
from kiln.ui.monitoring.windows import WindowChoice

LISTED = 20
# The span of the drift-over-time chart, ending with the latest report.
SPANS = {DriftWindow.hour: timedelta(days=2), DriftWindow.day: timedelta(days=60)}


@dataclass(slots=True)
class StoredDriftView:
    window: DriftWindow
    reports: list[DriftReportSummary] = field(default_factory=list)
    latest: DriftReportRead | None = None
    scores: DriftScoresTable | None = None
    histogram: HistogramTable | None = None
    # The latest report's features, for the histogram's selector.
    features: list[str] = field(default_factory=list)


def drift_window(window: WindowChoice) -> DriftWindow:
    """Daily reports beside daily charts; hourly ones otherwise (no report is kept per minute)."""
    return DriftWindow.day if window.key == "1d" else DriftWindow.hour


def advice(report: DriftReportSummary) -> list[str]:
    """What to do, in sentences: which features moved, and whether to retrain."""
    said = []
    if report.drifted_features:
        moved = ", ".join(report.drifted_features)
        said.append(f"Features moved: {moved} ({report.drifted_share:.0%} of the inputs).")
    else:
        said.append("No input feature moved against the training sample.")
    if report.prediction_drift:
        said.append("The model's answers drifted too.")
    if report.retrain_recommended:
        said.append(
            f"Retraining is recommended: retrain model version {report.model_version_number} on data "
            "like the current traffic, then compare it with the served version before promoting it."
        )
    else:
        said.append("No retraining needed yet.")
    return said


def drifted_now(report: DriftReportRead) -> set[str]:
    """The features to highlight: the drifted inputs, and the answers when they drifted."""
    found = set(report.drifted_features)
    found.update(item.feature for item in report.features if item.drifted)
    return found


def psi_threshold(report: DriftReportRead) -> float:
    return report.thresholds.default.psi if report.thresholds else DriftThresholds().default.psi


def histogram_of(report: DriftReportRead, feature: str | None) -> HistogramTable | None:
    """``feature``'s histogram, else the most drifted feature's (the largest PSI first)."""
    ranked = sorted(report.features, key=lambda item: (not item.drifted, -(item.psi or 0.0), item.feature))
    chosen: FeatureDrift | None = next((item for item in report.features if item.feature == feature), None)
    chosen = chosen or next(iter(ranked), None)
    return None if chosen is None else histogram_table(chosen, report.features.index(chosen))


def load_stored_drift(
    session: Session, actor: Actor, name: str, window: WindowChoice, feature: str | None
) -> StoredDriftView:
    chosen = drift_window(window)
    view = StoredDriftView(chosen)
    listed = drift_reports.list_drift_reports(
        session, actor, name, DriftReportFilter(), PageParams(limit=LISTED)
    )
    view.reports = [DriftReportSummary.model_validate(row) for row in listed.items]
    newest = drift_reports.list_drift_reports(
        session, actor, name, DriftReportFilter(window=chosen), PageParams(limit=1)
    ).items
    if not newest:
        return view
    latest = DriftReportRead.model_validate(newest[0])
    seconds = DRIFT_WINDOW_SECONDS[chosen]
    points = drift_history.deployment_scores_over_time(
        session, actor, name, window=chosen, start=latest.end - SPANS[chosen], end=latest.end
    )
    view.latest = latest
    view.features = [item.feature for item in latest.features]
    view.scores = scores_table(
        points, seconds=seconds, threshold=psi_threshold(latest), highlighted=drifted_now(latest)
    )
    view.histogram = histogram_of(latest, feature)
    return view
