"""Metric history for charts: raw when short, bucketed (min/max/last) when long."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import error_of
from tests.tracking.api import create_run, history, log_batch, wire_float


def log_series(client: TestClient, run_id: str, values: list[float], steps: list[int] | None = None) -> None:
    steps = steps if steps is not None else list(range(len(values)))
    metrics = [
        {"key": "loss", "value": v if math.isfinite(v) else str(v), "step": s, "timestamp": 1_000_000 + i}
        for i, (s, v) in enumerate(zip(steps, values, strict=True))
    ]
    assert log_batch(client, run_id, metrics=metrics).status_code == 200


def downsampled(client: TestClient, run_id: str, max_points: int) -> dict[str, Any]:
    response = history(client, run_id, "loss", max_points=max_points)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["downsampled"] is True
    assert len(body["points"]) <= max_points
    assert sum(point["count"] for point in body["points"]) == body["total_points"]
    return body


def assert_buckets_bracket_their_value(points: list[dict[str, Any]]) -> None:
    for point in points:
        value, low, high = (wire_float(point[name]) for name in ("value", "min", "max"))
        if not math.isnan(value):
            assert low <= value <= high, point


class TestRawHistory:
    def test_short_history_is_returned_whole_and_ordered_by_step(self, client: TestClient) -> None:
        run = create_run(client)
        log_batch(client, run["id"], metrics=[{"key": "loss", "value": 0.3, "step": 3, "timestamp": 10}])
        log_batch(
            client,
            run["id"],
            metrics=[
                {"key": "loss", "value": 0.9, "step": 1, "timestamp": 20},
                {"key": "loss", "value": 0.5, "step": 2, "timestamp": 30},
            ],
        )

        body = history(client, run["id"], "loss").json()

        assert body["run_id"] == run["id"]
        assert body["key"] == "loss"
        assert body["total_points"] == 3
        assert body["downsampled"] is False
        assert [(p["step"], p["value"], p["timestamp"]) for p in body["points"]] == [
            (1, 0.9, 20),
            (2, 0.5, 30),
            (3, 0.3, 10),
        ]
        assert all(p["count"] == 1 and p["min"] is None and p["max"] is None for p in body["points"])

    def test_exactly_max_points_is_not_downsampled(self, client: TestClient) -> None:
        run = create_run(client)
        log_series(client, run["id"], [float(i) for i in range(50)])

        body = history(client, run["id"], "loss", max_points=50).json()

        assert body["downsampled"] is False
        assert len(body["points"]) == 50


class TestDownsampledHistory:
    def test_long_history_fits_in_max_points(self, client: TestClient) -> None:
        run = create_run(client)
        log_series(client, run["id"], [math.sin(i / 50) for i in range(5_000)])

        body = downsampled(client, run["id"], 100)

        assert body["total_points"] == 5_000
        assert len(body["points"]) >= 50
        steps = [point["step"] for point in body["points"]]
        assert steps == sorted(steps)
        assert steps[-1] == 4_999
        assert_buckets_bracket_their_value(body["points"])

    def test_a_single_spike_and_dip_survive(self, client: TestClient) -> None:
        run = create_run(client)
        values = [1.0] * 3_000
        values[1_234] = 1_000.0
        values[2_777] = -50.0
        log_series(client, run["id"], values)

        body = downsampled(client, run["id"], 40)

        assert max(wire_float(p["max"]) for p in body["points"]) == 1_000.0
        assert min(wire_float(p["min"]) for p in body["points"]) == -50.0
        assert_buckets_bracket_their_value(body["points"])

    def test_all_points_at_step_zero_also_downsample(self, client: TestClient) -> None:
        run = create_run(client)
        values = [float(i % 7) for i in range(2_000)]
        values[1_500] = 99.0
        log_series(client, run["id"], values, steps=[0] * 2_000)

        body = downsampled(client, run["id"], 25)

        assert body["total_points"] == 2_000
        assert max(wire_float(p["max"]) for p in body["points"]) == 99.0
        assert_buckets_bracket_their_value(body["points"])

    def test_few_steps_with_many_points_each(self, client: TestClient) -> None:
        run = create_run(client)
        steps = [i // 300 for i in range(3_000)]
        log_series(client, run["id"], [float(i) for i in range(3_000)], steps=steps)

        body = downsampled(client, run["id"], 100)

        assert min(wire_float(p["min"]) for p in body["points"]) == 0.0
        assert max(wire_float(p["max"]) for p in body["points"]) == 2_999.0

    def test_sparse_huge_steps(self, client: TestClient) -> None:
        run = create_run(client)
        steps = [i * 1_000_003 for i in range(500)]
        log_series(client, run["id"], [float(i) for i in range(500)], steps=steps)

        body = downsampled(client, run["id"], 20)

        assert body["points"][-1]["step"] == steps[-1]
        assert wire_float(body["points"][-1]["value"]) == 499.0

    def test_nan_in_a_bucket_does_not_poison_min_and_max(self, client: TestClient) -> None:
        run = create_run(client)
        values = [float(i) for i in range(1_000)]
        for i in range(0, 1_000, 10):
            values[i] = math.nan
        log_series(client, run["id"], values)

        body = downsampled(client, run["id"], 10)

        for point in body["points"]:
            assert not math.isnan(wire_float(point["min"])), point
            assert not math.isnan(wire_float(point["max"])), point
        assert max(wire_float(p["max"]) for p in body["points"]) == 999.0
        assert min(wire_float(p["min"]) for p in body["points"]) == 1.0

    def test_infinities_survive_as_bucket_extremes(self, client: TestClient) -> None:
        run = create_run(client)
        values = [0.5] * 600
        values[100] = math.inf
        values[400] = -math.inf
        log_series(client, run["id"], values)

        body = downsampled(client, run["id"], 6)

        assert "Infinity" in [p["max"] for p in body["points"]]
        assert "-Infinity" in [p["min"] for p in body["points"]]


class TestHistoryErrors:
    def test_unknown_key_is_404(self, client: TestClient) -> None:
        run = create_run(client)
        log_batch(client, run["id"], metrics=[{"key": "loss", "value": 1}])

        response = history(client, run["id"], "accuracy")

        assert response.status_code == 404
        assert "'accuracy'" in error_of(response)["message"]

    def test_unknown_run_is_404(self, client: TestClient) -> None:
        response = history(client, "ghost-run", "loss")

        assert response.status_code == 404
        assert "ghost-run" in error_of(response)["message"]

    @pytest.mark.parametrize("max_points", [1, 10_001])
    def test_max_points_out_of_range_is_422(self, client: TestClient, max_points: int) -> None:
        run = create_run(client)

        response = history(client, run["id"], "loss", max_points=max_points)

        assert response.status_code == 422
        assert "max_points" in error_of(response)["message"]
