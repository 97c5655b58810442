"""The prediction log holds each request's inputs as they were answered, however the body was written.

The log takes the body's own JSON text of its inputs where that is certainly them, so these bodies
are sent as bytes, spelled the ways a caller may spell them, and the log is read back over HTTP.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from tests.api import API
from tests.builders.core import unique
from tests.builders.deployments import ROWS, deploy, refresh
from tests.builders.registry_lifecycle import build_model

ROWS_TEXT = '[{"amount": 80.0, "age": 30.0}, {"amount": 10.0, "age": 60.0}]'


@pytest.fixture
def deployment(app: FastAPI, client: TestClient) -> str:
    [v1] = build_model(app, name=unique("fraud"))
    name = unique("logged")
    deploy(client, name, v1.model, version=1)
    refresh(app)
    return name


def send(client: TestClient, name: str, body: bytes) -> Any:
    response = client.post(
        f"{API}/deployments/{name}/predict", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def logged_inputs(app: FastAPI, client: TestClient, request_id: str) -> Any:
    kiln_state(app).prediction_logger.flush()
    items = client.get(f"{API}/predictions", params={"limit": 100}).json()["items"]
    [item] = [item for item in items if item["request_id"] == request_id]
    return item["inputs"]


@pytest.mark.parametrize(
    "body",
    [
        f'{{"inputs":{ROWS_TEXT}}}',
        f'\n  {{ "inputs" :\n {ROWS_TEXT}\n }}\n',
        '{"\\u0069nputs": ' + ROWS_TEXT + "}",  # the key spelled with an escape
        '{"inputs": [{"amount": 1.0, "age": 2.0}], "inputs": ' + ROWS_TEXT + "}",  # the last one counts
    ],
    ids=["compact", "spaced", "escaped key", "repeated key"],
)
def test_records_are_logged_as_answered(app: FastAPI, client: TestClient, deployment: str, body: str) -> None:
    answer = send(client, deployment, body.encode())
    assert len(answer["predictions"]) == len(ROWS)
    assert logged_inputs(app, client, answer["request_id"]) == ROWS


def test_columns_are_logged_as_sent(app: FastAPI, client: TestClient, deployment: str) -> None:
    answer = send(client, deployment, b'{"columns": {"amount": [80.0, 10.0], "age": [30, 60]}}')
    assert answer["predictions"] == [1, 0]
    assert logged_inputs(app, client, answer["request_id"]) == {"amount": [80.0, 10.0], "age": [30, 60]}


def test_a_malformed_body_is_a_422_saying_where(client: TestClient, deployment: str) -> None:
    response = client.post(f"{API}/deployments/{deployment}/predict", content=b'{"inputs": [}')
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "the body is not JSON: Expecting value: line 1 column 13 (char 12)"
    )


@pytest.mark.parametrize(
    "body",
    [
        # A field given twice in a record: the last one counts, and the log holds what was answered.
        '{"inputs": [{"amount": 1.0, "amount": 80.0, "age": 30.0}, {"amount": 10.0, "age": 60.0}]}',
        '{"columns": {"amount": [1.0], "age": [2.0]}, "columns": {"amount": [80.0, 10.0], "age": [30, 60]}}',
    ],
    ids=["field repeated in a record", "repeated columns key"],
)
def test_a_repeated_key_is_logged_as_answered(
    app: FastAPI, client: TestClient, deployment: str, body: str
) -> None:
    answer = send(client, deployment, body.encode())
    assert answer["predictions"] == [1, 0]
    logged = logged_inputs(app, client, answer["request_id"])
    assert logged in (ROWS, {"amount": [80.0, 10.0], "age": [30, 60]})


def test_outputs_are_logged_as_answered(app: FastAPI, client: TestClient, deployment: str) -> None:
    answer = send(client, deployment, f'{{"inputs": {ROWS_TEXT}}}'.encode())
    kiln_state(app).prediction_logger.flush()
    items = client.get(f"{API}/predictions", params={"limit": 100}).json()["items"]
    [item] = [item for item in items if item["request_id"] == answer["request_id"]]
    assert item["outputs"] == {key: answer[key] for key in ("predictions", "classes", "probabilities")}
    assert list(answer) == ["request_id", "deployment", "model", "predictions", "classes", "probabilities"]
