"""Per-deployment Prometheus figures at /metrics: requests by outcome and latency, bounded labels."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from kiln.app import kiln_state
from kiln.serving import deployment_metrics
from kiln.serving.deployment_metrics import DeploymentMetrics
from tests.builders.core import unique
from tests.builders.deployments import ROWS, deploy, predict, refresh
from tests.builders.registry_lifecycle import build_model


def test_each_outcome_and_the_latency_of_answers_are_exported(app: FastAPI, client: TestClient) -> None:
    [v1] = build_model(app, name=unique("fraud"))
    deploy(client, "fraud-metrics", v1.model, version=1)
    refresh(app)
    for _ in range(3):
        assert predict(client, "fraud-metrics", {"inputs": ROWS}).status_code == 200
    assert predict(client, "fraud-metrics", {"inputs": [{"amount": "lots", "age": 1.0}]}).status_code == 422

    registry = kiln_state(app).metrics_registry
    labels = {"deployment": "fraud-metrics"}
    assert registry.get_sample_value("kiln_deployment_requests_total", {**labels, "status": "ok"}) == 3
    assert registry.get_sample_value("kiln_deployment_requests_total", {**labels, "status": "invalid"}) == 1
    assert registry.get_sample_value("kiln_deployment_latency_seconds_count", labels) == 3
    text = client.get("/metrics").text
    assert 'kiln_deployment_requests_total{deployment="fraud-metrics",status="ok"} 3.0' in text


def test_past_the_cap_further_deployments_share_one_label(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deployment_metrics, "MAX_DEPLOYMENTS", 2)
    registry = CollectorRegistry()
    metrics = DeploymentMetrics(registry)
    for name in ("a", "b", "c", "d", "a"):
        metrics.observe(name, "ok", 1.0)
    value = registry.get_sample_value
    assert value("kiln_deployment_requests_total", {"deployment": "a", "status": "ok"}) == 2
    assert value("kiln_deployment_requests_total", {"deployment": "b", "status": "ok"}) == 1
    assert value("kiln_deployment_requests_total", {"deployment": "other", "status": "ok"}) == 2
