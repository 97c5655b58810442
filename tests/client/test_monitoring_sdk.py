"""``client.monitoring`` over a live server: recompute windows, read series, read drift."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

import kiln
from kiln.app import kiln_state
from kiln.core.ids import utcnow
from tests.builders.core import unique
from tests.builders.deployments import cache_running
from tests.builders.registry_lifecycle import build_model

ROWS = [{"amount": 80.0, "age": 30.0}, {"amount": 10.0, "age": 60.0}]


@pytest.fixture
def sdk(app: FastAPI, live_url: str) -> Iterator[kiln.Client]:
    with cache_running(app), kiln.Client(live_url) as client:
        yield client


def test_windows_series_and_drift_of_a_served_deployment(app: FastAPI, sdk: kiln.Client) -> None:
    [v1] = build_model(app, name=unique("fraud"))
    sdk.deployments.deploy("fraud-watch", v1.model, version=1)
    sdk.deployments.wait_ready("fraud-watch")
    answers = [sdk.deployments.predict("fraud-watch", ROWS) for _ in range(3)]
    kiln_state(app).prediction_logger.flush()  # the log writes in batches: written now
    recorded = sdk.predictions.feedback_batch(
        [{"request_id": a.request_id, "actual": [1, 0]} for a in answers]
    )
    assert recorded.recorded == 3

    computed = sdk.monitoring.compute_windows("fraud-watch", window="1h")
    assert computed.windows in (24, 25)  # the last day: 25 hour windows unless it starts on the hour
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    [series] = sdk.monitoring.metrics("fraud-watch", "accuracy", from_=hour).series
    assert [point.value for point in series.points] == [1.0]  # both rows of all three answered right
    assert series.points[0].samples == 6

    report = sdk.monitoring.drift("fraud-watch")
    # The inputs, and the model's real answers against its answers to its training rows.
    counts = [(feature.feature, feature.current_count) for feature in report.features]
    assert counts == [("amount", 6), ("age", 6), ("prediction", 6)]
    assert report.prediction_drift is not None

    with pytest.raises(ValueError, match="`from` must be before `to`"):  # checked before sending
        sdk.monitoring.metrics(
            "fraud-watch", "accuracy", from_="2026-01-02T00:00:00Z", to="2026-01-01T00:00:00Z"
        )
