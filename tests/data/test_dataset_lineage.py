"""A run naming ``dataset:telemetry@latest`` is pinned to that version, and from the model version it
trained, lineage walks back to the dataset version and the upload it came from."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.tracking.schemas import RunInputCreate
from tests.api import API, error_of
from tests.builders.datasets import batch, create_telemetry, upload_frame
from tests.builders.registry import fitted_forest, save_run_model
from tests.builders.tracking import make_run
from tests.registry.api import register_run


def lineage(client: TestClient, kind: str, ident: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}/lineage/{kind}/{ident}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_model_version_reaches_its_dataset_version(client: TestClient, app: FastAPI) -> None:
    create_telemetry(client)
    upload_frame(client, batch(24, seed=1))
    dataset_version = upload_frame(client, batch(30, seed=2))
    estimator, X = fitted_forest()
    with kiln_state(app).db.unit_of_work() as session:
        run = make_run(session, inputs=[RunInputCreate(name="dataset:telemetry@latest")])
        save_run_model(session, kiln_state(app).store, run, estimator, X)
        run_id = run.id
    model_version = register_run(client, "congestion", run_id)

    recorded = client.get(f"{API}/runs/{run_id}").json()["inputs"]
    graph = lineage(client, "model_version", model_version["id"], direction="upstream", depth=3)

    assert recorded == [
        {
            "kind": "dataset",
            "name": "telemetry",
            "version": "2",
            "digest": dataset_version["content_hash"],
            "uri": "dataset:telemetry@2",
        }
    ]
    nodes = {(node["kind"], node["id"]): node for node in graph["nodes"]}
    reached = nodes[("dataset_version", dataset_version["id"])]
    assert (reached["label"], reached["level"]) == ("telemetry v2", -2)
    [source] = [node for node in graph["nodes"] if node["kind"] == "source"]
    assert source["id"] == f"upload:batch.csv@{dataset_version['content_hash'][:12]}"
    assert source["level"] == -3
    [edge] = [e for e in graph["edges"] if e["source"]["kind"] == "source"]
    assert edge["relation"] == "source_of"
    assert edge["created_by"] == "admin@kiln.test"


def test_a_plain_name_and_number_resolves_too(client: TestClient, app: FastAPI) -> None:
    create_telemetry(client)
    version = upload_frame(client, batch(24, seed=1))
    with kiln_state(app).db.unit_of_work() as session:
        run = make_run(session, inputs=[RunInputCreate(name="telemetry", version="1")])
        run_id = run.id
    graph = lineage(client, "dataset_version", version["id"], direction="downstream")
    assert ("run", run_id) in {(node["kind"], node["id"]) for node in graph["nodes"]}


def test_a_reference_to_data_kiln_does_not_hold_is_refused(client: TestClient) -> None:
    create_telemetry(client)
    experiment = client.post(f"{API}/experiments", json={"name": "congestion"}).json()
    for ref, says in [
        ("dataset:telemetry@3", "dataset 'telemetry' has no version 3"),
        ("dataset:flows@1", "the run's project has no dataset 'flows'"),
    ]:
        response = client.post(
            f"{API}/runs", json={"experiment_id": experiment["id"], "inputs": [{"name": ref}]}
        )
        assert response.status_code == 404, response.text
        assert says in error_of(response)["message"]


def test_inputs_naming_other_data_keep_their_own_nodes(client: TestClient) -> None:
    experiment = client.post(f"{API}/experiments", json={"name": "churn"}).json()
    inputs = [{"name": "customers", "version": "3"}]
    created = client.post(f"{API}/runs", json={"experiment_id": experiment["id"], "inputs": inputs})
    assert created.status_code == 201, created.text
    graph = lineage(client, "dataset_version", "customers@3", direction="downstream")
    assert ("run", created.json()["id"]) in {(node["kind"], node["id"]) for node in graph["nodes"]}
