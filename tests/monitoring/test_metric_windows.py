"""A deployment's metrics per window, from the prediction log and late ground truth, over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.api import API, error_of
from tests.builders.auth import api, default_project_id, make_account, open_session
from tests.builders.core import database
from tests.builders.deployments import deploy
from tests.builders.registry_lifecycle import build_model
from tests.builders.serving import at, classified, log_predictions, prediction

METRICS = f"{API}/monitoring/metrics"
WINDOWS = f"{API}/monitoring/windows"
HOUR = at("2025-03-01T11:00:00+00:00")
RANGE = {"from": "2025-03-01T10:00:00Z", "to": "2025-03-01T13:00:00Z"}


@pytest.fixture
def fraud(app: FastAPI, client: TestClient) -> list[str]:
    """In the hour of 11:00, eight ok predictions of v3 (latency 1..8 ms), one refused and one failed;
    one ok prediction of v4; and one at 12:10 in the next hour. Returns the v3 request ids."""
    [version] = build_model(app)
    deploy(client, "fraud", version.model, version=1)
    project = default_project_id(app)
    labels = ["1", "1", "0", "0", "1", "0", "0", "1"]
    scores = [0.9, 0.8, 0.3, 0.2, 0.4, 0.6, 0.1, 0.7]
    records = [
        classified(project, label, score, latency_ms=float(i + 1), created_at=HOUR + timedelta(minutes=i))
        for i, (label, score) in enumerate(zip(labels, scores, strict=True))
    ]
    records += [
        prediction(project, status="invalid", latency_ms=0.1, created_at=HOUR),
        prediction(project, status="error", latency_ms=500.0, created_at=HOUR),
        classified(project, "1", 0.9, version=4, latency_ms=20.0, created_at=HOUR + timedelta(minutes=30)),
        classified(project, "0", 0.2, latency_ms=2.0, created_at=HOUR + timedelta(minutes=70)),
    ]
    return log_predictions(database(app), records)[:8]


def series(client: TestClient, metric: str, **params: object) -> list[dict[str, object]]:
    answer = client.get(METRICS, params={"deployment": "fraud", "metric": metric, **RANGE, **params})
    assert answer.status_code == 200, answer.text
    [found] = answer.json()["series"]
    return found["points"]


def values(points: list[dict[str, object]]) -> list[object]:
    return [point["value"] for point in points]


class TestWindows:
    def test_traffic_per_hour_for_the_deployment_and_per_version(
        self, client: TestClient, fraud: list[str]
    ) -> None:
        computed = client.post(WINDOWS, json={"deployment": "fraud", **RANGE})
        assert computed.status_code == 200, computed.text
        assert computed.json()["windows"] == 3

        requests = series(client, "requests")
        assert [point["start"] for point in requests] == [
            "2025-03-01T10:00:00Z",
            "2025-03-01T11:00:00Z",
            "2025-03-01T12:00:00Z",
        ]
        assert values(requests) == [0.0, 11.0, 1.0]
        assert values(series(client, "errors")) == [0.0, 1.0, 0.0]
        assert values(series(client, "error_rate"))[1] == pytest.approx(1 / 11)
        # Nearest rank over ok predictions of every version: 1..8 ms and v4's 20 ms.
        assert values(series(client, "latency_p50"))[1] == 5.0
        assert values(series(client, "latency_p99"))[1] == 20.0
        assert values(series(client, "requests", version=4)) == [1.0]

    def test_accuracy_appears_when_ground_truth_arrives_late(
        self, client: TestClient, fraud: list[str]
    ) -> None:
        client.post(WINDOWS, json={"deployment": "fraud", **RANGE})
        assert values(series(client, "accuracy")) == []  # no ground truth yet: no quality metric

        actual = ["1", "0", "0", "0", "1", "1", "0", "1"]  # two of eight predictions wrong
        sent = client.post(
            f"{API}/predictions/feedback",
            json=[{"request_id": rid, "actual": label} for rid, label in zip(fraud, actual, strict=True)],
        )
        assert sent.status_code == 200, sent.text
        client.post(WINDOWS, json={"deployment": "fraud", **RANGE})

        [accuracy] = series(client, "accuracy", version=3)
        assert (accuracy["value"], accuracy["samples"]) == (0.75, 8)
        [recall] = values(series(client, "recall", version=3))
        assert recall == 0.75  # of the four actual "1"s, three were predicted
        [auc] = values(series(client, "auc", version=3))
        assert auc == pytest.approx(13 / 16)  # 13 of the 16 (positive, negative) pairs ranked right

    def test_recomputing_a_window_gives_the_same_rows_never_doubles(
        self, client: TestClient, fraud: list[str]
    ) -> None:
        for _ in range(2):
            assert client.post(WINDOWS, json={"deployment": "fraud", **RANGE}).status_code == 200
        assert values(series(client, "requests")) == [0.0, 11.0, 1.0]


class TestMistakes:
    def test_bad_queries_say_what_to_fix(self, client: TestClient, fraud: list[str]) -> None:
        unknown = client.get(METRICS, params={"deployment": "fraud", "metric": "vibes"})
        assert unknown.status_code == 422
        assert "accuracy" in unknown.text
        backwards = client.get(
            METRICS,
            params={
                "deployment": "fraud",
                "metric": "requests",
                "from": "2025-03-02T00:00:00Z",
                "to": "2025-03-01T00:00:00Z",
            },
        )
        assert backwards.status_code == 422
        assert "`from` must be before `to`" in backwards.text
        too_many = client.get(
            METRICS,
            params={
                "deployment": "fraud",
                "metric": "requests",
                "window": "1m",
                "from": "2025-01-01T00:00:00Z",
                "to": "2025-03-01T00:00:00Z",
            },
        )
        assert too_many.status_code == 400
        assert "narrow it or use a wider window" in error_of(too_many)["message"]
        missing = client.get(METRICS, params={"deployment": "nope", "metric": "requests"})
        assert missing.status_code == 404

    def test_a_non_member_sees_no_deployment(self, app: FastAPI, fraud: list[str]) -> None:
        outsider = make_account(app, role=Role.ml_engineer)
        with api(app, open_session(app, outsider).access_token) as stranger:
            assert (
                stranger.get(METRICS, params={"deployment": "fraud", "metric": "requests"}).status_code == 404
            )
            assert stranger.post(WINDOWS, json={"deployment": "fraud"}).status_code == 404

    def test_a_viewer_reads_but_cannot_recompute(self, app: FastAPI, fraud: list[str]) -> None:
        viewer = make_account(app, role=Role.viewer, project_role=Role.viewer)
        with api(app, open_session(app, viewer).access_token) as reader:
            assert (
                reader.get(METRICS, params={"deployment": "fraud", "metric": "requests"}).status_code == 200
            )
            assert reader.post(WINDOWS, json={"deployment": "fraud"}).status_code == 403
