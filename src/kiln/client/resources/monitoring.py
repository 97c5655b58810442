"""``client.monitoring``: a deployment's metrics per window, recomputing windows, and drift."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kiln.client.resources.base import Resource
from kiln.monitoring.drift_schemas import DriftReport
from kiln.monitoring.schemas import MetricQuery, MetricSeriesList, WindowsCompute, WindowsComputed


def _range(from_: datetime | str | None, to: datetime | str | None) -> dict[str, Any]:
    return {key: value for key, value in (("from", from_), ("to", to)) if value is not None}


class MonitoringResource(Resource):
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
