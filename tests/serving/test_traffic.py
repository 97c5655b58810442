"""A deployment's traffic aggregated from the prediction log: counts, errors and latency per bucket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.core.actor import SYSTEM
from kiln.core.errors import Invalid
from kiln.serving import deployments, traffic
from tests.builders.auth import default_project_id
from tests.builders.core import database
from tests.builders.deployments import deploy
from tests.builders.registry_lifecycle import build_model
from tests.builders.serving import at, log_predictions, prediction

NOW = at("2025-03-01T12:00:30+00:00")


@pytest.fixture
def fraud(app: FastAPI, client: TestClient) -> str:
    """Deployment ``fraud`` with, in the bucket of 11:58, 100 ok predictions taking 1..100 ms, two
    refused and one failed; and one ok prediction the day before (outside the last hour)."""
    [version] = build_model(app)
    deploy(client, "fraud", version.model, version=1)
    project = default_project_id(app)
    minute = at("2025-03-01T11:58:00+00:00")
    records = [
        prediction(project, latency_ms=float(ms), created_at=minute + timedelta(milliseconds=ms * 100))
        for ms in range(100, 0, -1)
    ]
    records += [prediction(project, status="invalid", latency_ms=0.1, created_at=minute) for _ in range(2)]
    records += [prediction(project, status="error", latency_ms=900.0, created_at=minute)]
    records += [prediction(project, created_at=NOW - timedelta(days=1))]
    records += [prediction(project, deployment="other", created_at=minute)]
    log_predictions(database(app), records)
    return "fraud"


def test_counts_and_latency_percentiles_per_bucket(app: FastAPI, fraud: str) -> None:
    with database(app).unit_of_work() as session:
        found = traffic.deployment_traffic(
            session, SYSTEM, fraud, window_seconds=3600, bucket_seconds=60, now=NOW
        )

    assert found.end == at("2025-03-01T12:01:00+00:00")
    assert len(found.buckets) == 60
    busy = [bucket for bucket in found.buckets if bucket.requests]
    assert [bucket.start for bucket in busy] == [at("2025-03-01T11:58:00+00:00")]
    [bucket] = busy
    assert (bucket.requests, bucket.invalid, bucket.errors) == (103, 2, 1)
    # Nearest rank over the ok predictions only: the refused (0.1 ms) and failed (900 ms) do not count.
    assert bucket.latency == traffic.Latency(50.0, 95.0, 99.0)
    assert found.latency == bucket.latency
    assert (found.requests, found.invalid, found.errors) == (103, 2, 1)
    assert found.buckets[0].latency == traffic.Latency()


def test_requests_since_counts_each_deployment(app: FastAPI, fraud: str) -> None:
    with database(app).unit_of_work() as session:
        [read] = deployments.describe(session, [deployments.get_deployment(session, SYSTEM, fraud)])
        counts = traffic.requests_since(session, [read], NOW - timedelta(hours=1))
    assert counts == {"fraud": 103}


def test_a_window_that_does_not_split_into_buckets_is_refused() -> None:
    with pytest.raises(Invalid, match="does not split"):
        traffic.window(NOW, 3600, 7)
    with pytest.raises(Invalid, match="at most"):
        traffic.window(NOW, 3600 * 24, 1)
