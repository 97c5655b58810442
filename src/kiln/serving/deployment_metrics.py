"""Prometheus figures per deployment: requests by outcome and latency, counted as predictions are logged.

Every outcome is counted, the sampled-out ones included (the log may keep a sample; the counters
never do). Label values are bounded: past ``MAX_DEPLOYMENTS`` distinct deployment names, further
ones are counted under ``other``, so a scraper's series stay bounded whatever is deployed.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

MAX_DEPLOYMENTS = 500
OTHER = "other"
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class DeploymentMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.requests = Counter(
            "kiln_deployment_requests_total",
            "Prediction requests per deployment and outcome (ok, invalid, error)",
            ["deployment", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "kiln_deployment_latency_seconds",
            "Latency of answered predictions per deployment",
            ["deployment"],
            registry=registry,
            buckets=_BUCKETS,
        )
        # Children looked up once per (deployment, status): labels() costs more than inc().
        self._counters: dict[tuple[str, str], Any] = {}
        self._histograms: dict[str, Any] = {}

    def observe(self, deployment: str, status: str, latency_ms: float) -> None:
        counter = self._counters.get((deployment, status))
        if counter is None:
            counter = self._counters[(deployment, status)] = self.requests.labels(
                self._label(deployment), status
            )
        counter.inc()
        if status == "ok":
            histogram = self._histograms.get(deployment)
            if histogram is None:
                histogram = self.latency.labels(self._label(deployment))
                self._histograms[deployment] = histogram
            histogram.observe(latency_ms / 1000)

    def _label(self, deployment: str) -> str:
        known = {name for name, _ in self._counters} | set(self._histograms)
        return deployment if deployment in known or len(known) < MAX_DEPLOYMENTS else OTHER
