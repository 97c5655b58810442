"""Prometheus figures of drift: the latest stored report's scores per deployment, at ``/metrics``.

A stored report updates them after its transaction commits (in the process that stored it, the
worker of ``kiln server``); a process that starts reads the latest reports once (``prime``). Labels
are bounded: at most ``MAX_DEPLOYMENTS`` deployments (then ``other``) and, per deployment, the
``MAX_FEATURES`` features with the highest PSI.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MAX_DEPLOYMENTS = 500
MAX_FEATURES = 20
OTHER = "other"


@dataclass(frozen=True, slots=True)
class LatestDrift:
    drifted_share: float
    retrain_recommended: bool
    prediction_drift: bool | None
    start_seconds: float
    # feature -> PSI (comparable across numeric and categorical features, whatever method decided)
    feature_psi: dict[str, float] = field(default_factory=dict)


class DriftScores(Collector):
    """The latest report per deployment, as gauges; thread-safe (jobs write, scrapes read)."""

    def __init__(self) -> None:
        self._latest: dict[str, LatestDrift] = {}
        self._lock = threading.Lock()

    def record(self, deployment: str, latest: LatestDrift) -> None:
        """Keep ``latest`` unless a report of a later window is already kept."""
        top = sorted(latest.feature_psi.items(), key=lambda item: -item[1])[:MAX_FEATURES]
        latest = LatestDrift(
            latest.drifted_share,
            latest.retrain_recommended,
            latest.prediction_drift,
            latest.start_seconds,
            dict(top),
        )
        with self._lock:
            known = self._latest.get(deployment)
            if known is None and len(self._latest) >= MAX_DEPLOYMENTS:
                deployment = OTHER
                known = self._latest.get(OTHER)
            if known is None or known.start_seconds <= latest.start_seconds:
                self._latest[deployment] = latest

    def latest(self, deployment: str) -> LatestDrift | None:
        with self._lock:
            return self._latest.get(deployment)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            latest = dict(self._latest)
        share = GaugeMetricFamily(
            "kiln_deployment_drift_share",
            "Share of a deployment's input features drifted in its latest stored drift report",
            labels=["deployment"],
        )
        retrain = GaugeMetricFamily(
            "kiln_deployment_drift_retrain_recommended",
            "1 when the latest stored drift report recommends retraining",
            labels=["deployment"],
        )
        window = GaugeMetricFamily(
            "kiln_deployment_drift_window_start_seconds",
            "Start (Unix time) of the window of the latest stored drift report",
            labels=["deployment"],
        )
        psi = GaugeMetricFamily(
            "kiln_deployment_feature_drift_psi",
            "PSI of a feature (or the model's prediction) in the latest stored drift report",
            labels=["deployment", "feature"],
        )
        for deployment, drift in sorted(latest.items()):
            share.add_metric([deployment], drift.drifted_share)
            retrain.add_metric([deployment], 1.0 if drift.retrain_recommended else 0.0)
            window.add_metric([deployment], drift.start_seconds)
            for feature, value in sorted(drift.feature_psi.items()):
                psi.add_metric([deployment, feature], value)
        yield from (share, retrain, window, psi)


# One per process, like the event bus: jobs record into it, every app's registry exposes it.
drift_scores = DriftScores()
