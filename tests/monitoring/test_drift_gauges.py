"""The drift gauges' bounded labels, and priming them from stored reports at start."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest

from kiln.monitoring.drift_metrics import MAX_DEPLOYMENTS, MAX_FEATURES, DriftScores, LatestDrift
from kiln.monitoring.drift_reports import latest_drift_reports
from tests.api import API
from tests.builders.core import database
from tests.builders.drift import like_training, log_served, serve
from tests.builders.serving import at


def latest(start: float, **psi: float) -> LatestDrift:
    return LatestDrift(
        drifted_share=0.25,
        retrain_recommended=False,
        prediction_drift=None,
        start_seconds=start,
        feature_psi=psi,
    )


def exposition(scores: DriftScores) -> str:
    registry = CollectorRegistry()
    registry.register(scores)
    return generate_latest(registry).decode()


def test_deployments_past_the_cap_share_one_label() -> None:
    scores = DriftScores()
    for index in range(MAX_DEPLOYMENTS + 5):
        scores.record(f"d{index}", latest(float(index)))
    text = exposition(scores)
    assert text.count("kiln_deployment_drift_share{") == MAX_DEPLOYMENTS + 1
    assert 'kiln_deployment_drift_share{deployment="other"} 0.25' in text


def test_only_the_features_that_moved_most_are_labelled() -> None:
    scores = DriftScores()
    scores.record("fraud", latest(0.0, **{f"f{i:02d}": float(i) for i in range(MAX_FEATURES + 10)}))
    text = exposition(scores)
    assert text.count("kiln_deployment_feature_drift_psi{") == MAX_FEATURES
    assert 'feature="f29"' in text
    assert 'feature="f00"' not in text  # the least moved are left out


def test_an_older_window_never_replaces_a_newer_one() -> None:
    scores = DriftScores()
    scores.record("fraud", latest(7_200.0, amount=0.5))
    scores.record("fraud", latest(3_600.0, amount=0.1))  # a late recompute of the hour before
    kept = scores.latest("fraud")
    assert kept is not None
    assert kept.feature_psi == {"amount": 0.5}


def test_the_newest_report_of_each_deployment_primes_the_gauges(app: FastAPI, client: TestClient) -> None:
    version_id = serve(app, client)
    for hour in ("11", "12"):
        log_served(
            app, version_id, like_training(100, seed=int(hour)), start=at(f"2025-03-01T{hour}:00:00+00:00")
        )
        answer = client.post(
            f"{API}/monitoring/deployments/fraud/drift-reports",
            json={"window": "1h", "start": f"2025-03-01T{hour}:00:00Z"},
        )
        assert answer.status_code == 200, answer.text
    with database(app).unit_of_work() as session:
        [newest] = latest_drift_reports(session)
        assert (newest.deployment, newest.start) == ("fraud", at("2025-03-01T12:00:00+00:00"))
