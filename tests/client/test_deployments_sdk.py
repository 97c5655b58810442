"""``client.deployments`` and ``kiln.predict`` against a real server over HTTP, its model cache running."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi import FastAPI

import kiln
from kiln.serving.errors import NotReady
from tests.builders.core import unique
from tests.builders.deployments import cache_running
from tests.builders.registry_lifecycle import build_model, corrupt_payload

ROWS = [{"amount": 80.0, "age": 30.0}, {"amount": 10.0, "age": 60.0}]


@pytest.fixture
def sdk(app: FastAPI, live_url: str) -> Iterator[kiln.Client]:
    with cache_running(app), kiln.Client(live_url) as client:
        yield client


def test_deploy_wait_predict_list_and_stop(app: FastAPI, sdk: kiln.Client, live_url: str) -> None:
    [v1] = build_model(app, name=unique("fraud"))

    created = sdk.deployments.deploy("fraud-sdk", v1.model, version=1)
    assert (created.model.name, created.model.version, created.follows) == (v1.model, 1, None)
    shown = sdk.deployments.wait_ready("fraud-sdk", timeout=30)
    assert shown.readiness is not None
    assert shown.readiness.ready
    ready = sdk.deployments.ready("fraud-sdk")
    assert (ready.ready, ready.model_name, ready.model_version) == (True, v1.model, 1)
    assert sdk.deployments.predict_url("fraud-sdk") == f"{live_url}/api/v1/deployments/fraud-sdk/predict"

    records = sdk.deployments.predict("fraud-sdk", ROWS)
    assert records.predictions == [1, 0]
    assert records.classes == [0, 1]
    assert records.probabilities is not None
    assert [round(sum(p or 0.0 for p in row), 6) for row in records.probabilities] == [1.0, 1.0]
    assert (records.model_version, records.model.version_id) == (1, v1.id)
    assert records.request_id[14] == "7"  # a UUIDv7, the prediction log's key
    # Columns, a DataFrame and one record give the same answers; kiln.predict finds the server by KILN_URL.
    columns = sdk.deployments.predict("fraud-sdk", {"amount": [80.0, 10.0], "age": [30.0, 60.0]})
    frame = kiln.predict("fraud-sdk", pd.DataFrame(ROWS))
    assert columns.predictions == frame.predictions == [1, 0]
    assert kiln.predict("fraud-sdk", ROWS[1]).predictions == [0]
    assert len({records.request_id, columns.request_id, frame.request_id}) == 3

    assert [d.name for d in sdk.deployments.list()] == ["fraud-sdk"]
    assert [d.name for d in sdk.deployments.iter(model=v1.model, status="active")] == ["fraud-sdk"]
    stopped = sdk.deployments.delete("fraud-sdk")
    assert stopped.status.value == "stopped"
    with pytest.raises(NotReady, match="stopped"):
        sdk.deployments.wait_ready("fraud-sdk")
    assert [d.name for d in sdk.deployments.list(status="stopped")] == ["fraud-sdk"]


def test_refusals_arrive_as_their_classes(app: FastAPI, sdk: kiln.Client) -> None:
    [v1] = build_model(app, name=unique("fraud"))
    sdk.deployments.deploy("fraud-refusals", v1.model, version=1)
    sdk.deployments.wait_ready("fraud-refusals", timeout=30)

    with pytest.raises(kiln.ValidationFailed, match="amount"):
        sdk.deployments.predict("fraud-refusals", [{"amount": "lots", "age": 30.0}])
    with pytest.raises(kiln.NotFound, match="'nope'"):
        sdk.deployments.predict("nope", ROWS)
    with pytest.raises(kiln.NotFound):
        sdk.deployments.get("nope")
    with pytest.raises(kiln.NotFound):
        sdk.deployments.deploy("other", "no-such-model", version=1)
    with pytest.raises(kiln.ValidationFailed, match="exactly one of version, stage or alias"):
        sdk.deployments.deploy("other", v1.model, version=1, stage="production")
    # Caught before anything is sent.
    with pytest.raises(TypeError, match="list of records"):
        sdk.deployments.predict("fraud-refusals", [[80.0, 30.0]])


def test_a_deployment_that_cannot_load_says_why_at_once(app: FastAPI, sdk: kiln.Client) -> None:
    [v1] = build_model(app, name=unique("fraud"))
    corrupt_payload(app, v1)
    sdk.deployments.deploy("fraud-broken", v1.model, version=1)
    # A 503 of a serving route is Kiln's answer, not a gateway's: sent once, never retried.
    sdk.transport.backoff = 60.0
    started = time.monotonic()

    with pytest.raises(NotReady, match="not ready") as waited:
        sdk.deployments.wait_ready("fraud-broken", timeout=30)
    ready = sdk.deployments.ready("fraud-broken")
    with pytest.raises(NotReady):
        sdk.deployments.predict("fraud-broken", ROWS)

    assert time.monotonic() - started < 12  # a retried 503 waits 4 s a try, 4 tries, twice
    assert "sha256" in waited.value.message or "match" in waited.value.message
    assert ready.ready is False
    assert ready.reason is not None
    assert "not ready" in ready.reason
