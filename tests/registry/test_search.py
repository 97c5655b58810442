"""Finding versions by hyperparameter, metric, name, label, tag and stage (the tracking grammar)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kiln.storage.store import ArtifactStore
from tests.api import API, error_of
from tests.builders.registry import make_version_from_run
from tests.registry.conftest import Committed


def search(client: TestClient, expression: str) -> list[tuple[str, int]]:
    response = client.get(f"{API}/models/search", params={"filter": expression})
    assert response.status_code == 200, response.text
    return sorted((item["model_name"], item["number"]) for item in response.json()["items"])


def test_versions_are_found_by_hyperparameter_and_metric(
    client: TestClient, committed: Committed, store: ArtifactStore
) -> None:
    with committed() as session:
        make_version_from_run(session, store, n_estimators=50, metrics={"auc": 0.95}, label="1.0.0")
        make_version_from_run(session, store, n_estimators=50, metrics={"auc": 0.85})
        make_version_from_run(session, store, n_estimators=100, metrics={"auc": 0.97})
        make_version_from_run(session, store, name="churn", n_estimators=50, metrics={"auc": 0.91})

    assert search(client, "params.n_estimators = 50 and metrics.auc > 0.9") == [
        ("churn", 1),
        ("fraud_detector", 1),
    ]
    assert search(client, "name = 'fraud_detector' and metrics.auc >= 0.85") == [
        ("fraud_detector", 1),
        ("fraud_detector", 2),
        ("fraud_detector", 3),
    ]
    assert search(client, "label = '1.0.0'") == [("fraud_detector", 1)]
    assert search(client, "stage = 'development' and number > 2") == [("fraud_detector", 3)]
    assert search(client, "name LIKE 'ch%'") == [("churn", 1)]


def test_metrics_of_found_versions_are_comparable(
    client: TestClient, committed: Committed, store: ArtifactStore
) -> None:
    with committed() as session:
        make_version_from_run(session, store, metrics={"auc": 0.95, "precision": 0.8})
        make_version_from_run(session, store, metrics={"auc": 0.9, "precision": 0.85})
    items = client.get(f"{API}/models/search", params={"filter": "metrics.auc > 0"}).json()["items"]
    assert {item["number"]: item["metrics"] for item in items} == {
        1: {"auc": 0.95, "precision": 0.8},
        2: {"auc": 0.9, "precision": 0.85},
    }


def test_tags_of_versions_and_models_are_searchable(
    client: TestClient, committed: Committed, store: ArtifactStore
) -> None:
    with committed() as session:
        make_version_from_run(session, store)
        make_version_from_run(session, store, name="churn")
    client.patch(f"{API}/models/churn", json={"tags": {"team": "retention"}})
    client.patch(f"{API}/models/fraud_detector/versions/1", json={"tags": {"reviewed": "yes"}})
    assert search(client, "tags.team = 'retention'") == [("churn", 1)]
    assert search(client, "tags.reviewed = 'yes'") == [("fraud_detector", 1)]


def test_a_bad_filter_says_what_to_fix(client: TestClient) -> None:
    refused = client.get(f"{API}/models/search", params={"filter": "colour = 'red'"})
    assert refused.status_code == 400
    message = error_of(refused)["message"]
    assert "unknown model version attribute 'colour'" in message
    assert "stage" in message
    refused = client.get(f"{API}/models/search", params={"filter": "metrics.auc > 'high'"})
    assert refused.status_code == 400
