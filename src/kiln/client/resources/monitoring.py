"""``client.monitoring``: a deployment's metrics per window, recomputing windows, and drift.

report = client.monitoring.drift("fraud")                    # computed now, over the last hour
for stored in client.monitoring.drift_reports("fraud", retrain_recommended=True): ...
series = client.monitoring.feature_scores("fraud", "amount")  # one feature over time, for a chart
client.monitoring.set_drift_settings("fraud", {"features": {"amount": {"psi": 0.3}}})  # per model
client.monitoring.retraining.create("fraud", "train_fraud")  # drift or an alert runs the pipeline
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kiln.client.pages import ResultPage, fetch_page
from kiln.client.resources.base import Resource, segment
from kiln.client.resources.retraining import RetrainingResource
from kiln.client.transport import Transport
from kiln.monitoring.drift_schemas import (
    DriftReport,
    DriftReportRead,
    DriftReportSummary,
    DriftThresholds,
    FeatureScoreSeries,
)
from kiln.monitoring.drift_settings_schemas import DriftSettingsRead
from kiln.monitoring.schemas import (
    DriftReportCompute,
    MetricQuery,
    MetricSeriesList,
    WindowsCompute,
    WindowsComputed,
)


def _range(from_: datetime | str | None, to: datetime | str | None) -> dict[str, Any]:
    return {key: value for key, value in (("from", from_), ("to", to)) if value is not None}


class MonitoringResource(Resource):
    def __init__(self, transport: Transport) -> None:
        super().__init__(transport)
        self.retraining = RetrainingResource(transport)

    def metrics(
        self,
        deployments: str | Sequence[str],
        metric: str,
        *,
        window: str = "1h",
        version: int | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
    ) -> MetricSeriesList:
        """One series of ``metric`` (accuracy, latency_p99, error_rate, ...) per deployment, per window."""
        names = [deployments] if isinstance(deployments, str) else list(deployments)
        query = MetricQuery.model_validate(
            {"deployment": names, "metric": metric, "window": window, "version": version, **_range(from_, to)}
        )
        params = query.model_dump(mode="json", by_alias=True, exclude_none=True)
        return MetricSeriesList.model_validate(
            self.transport.request("GET", "/monitoring/metrics", params=params)
        )

    def compute_windows(
        self,
        deployment: str,
        *,
        window: str = "1h",
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
    ) -> WindowsComputed:
        """Recompute the windows of a range now (idempotent; the server's tick does it each minute)."""
        body = WindowsCompute.model_validate(
            {"deployment": deployment, "window": window, **_range(from_, to)}
        )
        payload = body.model_dump(mode="json", by_alias=True, exclude_none=True)
        answer = self.transport.request("POST", "/monitoring/windows", json_body=payload)
        return WindowsComputed.model_validate(answer)

    def drift(
        self, deployment: str, *, from_: datetime | str | None = None, to: datetime | str | None = None
    ) -> DriftReport:
        """The deployment's served inputs of a range (default: the last hour) against its training sample."""
        params = {"deployment": deployment, **_range(from_, to)}
        return DriftReport.model_validate(self.transport.request("GET", "/monitoring/drift", params=params))

    def drift_reports(
        self,
        deployment: str,
        *,
        window: str | None = None,
        retrain_recommended: bool | None = None,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ResultPage[DriftReportSummary]:
        """The deployment's stored drift reports (one per hour and day with traffic), newest first."""
        params = {
            "window": window,
            "retrain_recommended": retrain_recommended,
            "limit": limit,
            "cursor": cursor,
            **_range(from_, to),
        }
        path = f"/monitoring/deployments/{segment(deployment)}/drift-reports"
        return fetch_page(self.transport, path, DriftReportSummary, params)

    def drift_report(self, deployment: str, report_id: str) -> DriftReportRead:
        """One stored report with every feature's measures and reference-vs-current histogram."""
        path = f"/monitoring/deployments/{segment(deployment)}/drift-reports/{segment(report_id)}"
        return DriftReportRead.model_validate(self.transport.request("GET", path))

    def compute_drift_report(
        self, deployment: str, start: datetime | str, *, window: str = "1h"
    ) -> DriftReportRead | None:
        """Compute (or recompute) the stored report of the window starting at ``start`` now; None
        when that window had no answered traffic."""
        body = DriftReportCompute.model_validate({"window": window, "start": start})
        path = f"/monitoring/deployments/{segment(deployment)}/drift-reports"
        answer = self.transport.request("POST", path, json_body=body.model_dump(mode="json"))
        return None if answer is None else DriftReportRead.model_validate(answer)

    def feature_scores(
        self,
        deployment: str,
        feature: str,
        *,
        window: str = "1h",
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
    ) -> FeatureScoreSeries:
        """One feature's (or ``"prediction"``'s) drift score per stored report, oldest first."""
        path = f"/monitoring/deployments/{segment(deployment)}/drift-features/{segment(feature)}"
        params = {"window": window, **_range(from_, to)}
        return FeatureScoreSeries.model_validate(self.transport.request("GET", path, params=params))

    def drift_settings(
        self, model: str, *, version: int | None = None, project: str | None = None
    ) -> DriftSettingsRead:
        """The drift thresholds reports of ``model`` (or of one version) use, and whose they are:
        the version's own, the model's, or the defaults."""
        answer = self.transport.request("GET", _settings_path(model, version), params=_project(project))
        return DriftSettingsRead.model_validate(answer)

    def set_drift_settings(
        self,
        model: str,
        thresholds: DriftThresholds | dict[str, Any],
        *,
        version: int | None = None,
        project: str | None = None,
    ) -> DriftSettingsRead:
        """Replace the model's (or one version's) drift thresholds: ``default`` (method, p_value,
        wasserstein, jensen_shannon, psi), per-feature ``features``, ``ignore``, ``small_window``,
        ``drifted_share``. Checked against the model's signature (``kiln.ValidationFailed`` naming
        the feature); reports computed from now on use them."""
        body = DriftThresholds.model_validate(thresholds).model_dump(mode="json")
        path = _settings_path(model, version)
        answer = self.transport.request("PUT", path, json_body=body, params=_project(project))
        return DriftSettingsRead.model_validate(answer)

    def clear_drift_settings(
        self, model: str, *, version: int | None = None, project: str | None = None
    ) -> None:
        """Drop the model's (or a version's) own settings: the model's, or the defaults, apply again."""
        self.transport.request("DELETE", _settings_path(model, version), params=_project(project))


def _settings_path(model: str, version: int | None) -> str:
    tail = "" if version is None else f"/versions/{version}"
    return f"/monitoring/models/{segment(model)}{tail}/drift-settings"


def _project(project: str | None) -> dict[str, Any]:
    return {} if project is None else {"project": project}
