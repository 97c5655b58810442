"""OIP readiness, in process: the server's (the deployments read once), and a deployment not ready."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from tests.builders.core import unique
from tests.builders.deployments import deploy, refresh
from tests.builders.registry_lifecycle import build_model, corrupt_payload


def test_the_server_is_ready_once_it_has_read_its_deployments(app: FastAPI) -> None:
    cache = kiln_state(app).model_cache
    # Not entered as a context: no lifespan, so no refresh thread has run.
    plain = TestClient(app)
    assert not cache.refreshed_once
    assert plain.get("/v2/health/live").status_code == 200
    assert not cache.refreshed_once, "liveness reads nothing"
    ready = plain.get("/v2/health/ready")
    assert (ready.status_code, ready.content) == (200, b"")
    assert cache.refreshed_once


def test_a_deployment_that_is_not_ready_answers_503_with_the_reason(app: FastAPI, client: TestClient) -> None:
    [v1] = build_model(app, name=unique("fraud"))
    corrupt_payload(app, v1)
    deploy(client, "fraud-broken", v1.model, version=1, public=True)
    refresh(app)

    ready = client.get("/v2/models/fraud-broken/ready")
    infer = client.post(
        "/v2/models/fraud-broken/infer",
        json={"inputs": [{"name": "amount", "datatype": "FP64", "shape": [1], "data": [1.0]}]},
    )

    for answer in (ready, infer):
        assert answer.status_code == 503
        message = answer.json()["error"]
        assert message.startswith("model 'fraud-broken' is not ready: ")
        assert "model.skops" in message
    assert client.get("/v2/models/fraud-broken/versions/2/ready").status_code == 404
