"""Pipelines in tests: the example definitions registered over HTTP, and runs executed by a real worker."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.jobs.worker import Worker
from kiln.pipelines.dsl import Pipeline
from tests.api import API

RUN_DEADLINE = 120.0


def register(client: TestClient, definition: Pipeline | dict[str, Any], **body: Any) -> Any:
    spec = definition.spec().model_dump(mode="json") if isinstance(definition, Pipeline) else definition
    return client.post(f"{API}/pipelines", json={"spec": spec, **body})


def start_run(client: TestClient, name: str, **parameters: Any) -> dict[str, Any]:
    response = client.post(f"{API}/pipelines/{name}/runs", json={"parameters": parameters})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def run_jobs(app: FastAPI) -> int:
    """Run every due job in this thread, as a worker would (steps still go to their processes)."""
    return Worker(kiln_state(app).db, lease_seconds=30).run_pending()


def read_run(client: TestClient, name: str, run_id: str) -> dict[str, Any]:
    response = client.get(f"{API}/pipelines/{name}/runs/{run_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def steps_by_name(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in run["steps"]}


def wait_for_run(client: TestClient, name: str, run_id: str, states: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_DEADLINE
    while True:
        run = read_run(client, name, run_id)
        if run["state"] in states:
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['state']}"
        time.sleep(0.05)
