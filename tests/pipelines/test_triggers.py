"""A new dataset version triggers its pipeline: the event enqueues one job, the job starts the run."""

from __future__ import annotations

from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api import API, error_of
from tests.builders.datasets import batch, create_telemetry, upload_frame
from tests.builders.pipelines import read_run, register, run_jobs


def _jobs(client: TestClient, kind: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = client.get(f"{API}/jobs", params={"kind": kind}).json()["items"]
    return items


class TestDatasetTriggers:
    def test_a_new_dataset_version_runs_its_pipeline(self, app: FastAPI, client: TestClient) -> None:
        register(client, examples.on_new_data)
        created = client.post(f"{API}/pipelines/on_new_data/triggers", json={"dataset": "telemetry"})
        assert created.status_code == 201, created.text
        create_telemetry(client)
        version = upload_frame(client, batch(48, seed=1))
        # The upload only enqueued a job: nothing has run yet.
        assert client.get(f"{API}/pipelines/on_new_data/runs").json()["items"] == []
        assert len(_jobs(client, "pipelines.trigger")) == 1

        run_jobs(app)  # the trigger job, then the run it queued
        [run] = client.get(f"{API}/pipelines/on_new_data/runs").json()["items"]
        assert run["triggered_by"] == f"dataset:telemetry@{version['number']}"
        assert run["parameters"] == {"dataset_version": version["number"]}
        done = read_run(client, "on_new_data", run["id"])
        assert done["state"] == "succeeded", done
        logs = client.get(f"{API}/pipelines/on_new_data/runs/{run['id']}/logs").json()
        assert any(f"new data: version {version['number']}" in line for line in logs[0]["lines"])

    def test_another_dataset_enqueues_nothing(self, app: FastAPI, client: TestClient) -> None:
        register(client, examples.on_new_data)
        client.post(f"{API}/pipelines/on_new_data/triggers", json={"dataset": "other"})
        create_telemetry(client)
        upload_frame(client, batch(48, seed=2))
        assert _jobs(client, "pipelines.trigger") == []

    def test_one_trigger_per_pipeline_and_dataset(self, client: TestClient) -> None:
        register(client, examples.on_new_data)
        assert client.post(f"{API}/pipelines/on_new_data/triggers", json={"dataset": "d"}).status_code == 201
        again = client.post(f"{API}/pipelines/on_new_data/triggers", json={"dataset": "d"})
        assert again.status_code == 409
        assert "already has a trigger on dataset 'd'" in error_of(again)["message"]
        [trigger] = client.get(f"{API}/pipelines/on_new_data/triggers").json()
        assert client.delete(f"{API}/pipelines/on_new_data/triggers/{trigger['id']}").status_code == 204
        assert client.get(f"{API}/pipelines/on_new_data/triggers").json() == []

    def test_trigger_parameters_are_checked_when_it_is_made(self, client: TestClient) -> None:
        register(client, examples.fan_out)
        response = client.post(
            f"{API}/pipelines/fan_out/triggers", json={"dataset": "d", "parameters": {"seconds": -1}}
        )
        assert response.status_code == 422
        assert "seconds must be at least 0" in error_of(response)["message"]
