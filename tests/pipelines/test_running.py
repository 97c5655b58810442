"""Running a pipeline: dependency order, parallel steps, failures skip downstream, retries, logs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.auth.permissions import Role
from kiln.jobs.worker import Worker
from tests.api import API, error_of
from tests.builders.auth import access_token, api, make_member
from tests.builders.pipelines import (
    read_run,
    register,
    run_jobs,
    start_run,
    steps_by_name,
    wait_for_run,
)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


class TestOrderAndParallelism:
    def test_steps_run_after_their_inputs_and_independent_ones_overlap(
        self, app: FastAPI, client: TestClient
    ) -> None:
        assert register(client, examples.fan_out).status_code == 201
        run = start_run(client, "fan_out", seconds=1.0)
        assert run["state"] == "queued"
        assert {step["state"] for step in run["steps"]} == {"pending"}
        assert run_jobs(app) == 1
        done = read_run(client, "fan_out", run["id"])
        assert done["state"] == "succeeded", done
        steps = steps_by_name(done)
        a, b, gathered = steps["wait_a_moment"], steps["wait_a_moment_2"], steps["gather"]
        # Both sleepers ran at once: each started before the other finished.
        assert _time(a["started_at"]) < _time(b["finished_at"])
        assert _time(b["started_at"]) < _time(a["finished_at"])
        # The step that takes their outputs started after both had finished.
        assert _time(gathered["started_at"]) >= max(_time(a["finished_at"]), _time(b["finished_at"]))
        for step in steps.values():
            assert step["attempts"] == 1
            assert step["wall_seconds"] is not None
            assert step["cpu_seconds"] is not None
            assert step["peak_memory_bytes"] > 0
        assert a["wall_seconds"] >= 1.0
        assert gathered["output"]["format"] == "json"

    def test_dataframes_flow_between_steps_as_parquet(self, app: FastAPI, client: TestClient) -> None:
        register(client, examples.training)
        run = start_run(client, "training", rows=300)
        run_jobs(app)
        done = read_run(client, "training", run["id"])
        assert done["state"] == "succeeded", done
        steps = steps_by_name(done)
        assert steps["make_data"]["output"]["format"] == "parquet"
        assert [step["name"] for step in done["steps"]][:2] == ["make_data", "validate"]
        logs = client.get(f"{API}/pipelines/training/runs/{run['id']}/logs", params={"step": "make_data"})
        assert logs.status_code == 200
        [make_data] = logs.json()
        assert any(line.endswith("INFO made 300 rows") for line in make_data["lines"]), make_data
        validate = client.get(f"{API}/pipelines/training/runs/{run['id']}/logs", params={"step": "validate"})
        assert any("validated 300 rows" in line for line in validate.json()[0]["lines"])


class TestTracking:
    def test_each_pipeline_run_is_one_tracking_run(self, app: FastAPI, client: TestClient) -> None:
        register(client, examples.fan_out)
        run = start_run(client, "fan_out", seconds=0.0)
        run_jobs(app)
        done = read_run(client, "fan_out", run["id"])
        tracked = client.get(f"{API}/runs/{done['tracking_run_id']}").json()
        assert tracked["status"] == "finished"
        assert tracked["params"] == {"seconds": "0.0"}
        assert tracked["tags"]["kiln.pipeline"] == "fan_out"
        assert tracked["tags"]["kiln.pipeline_run"] == run["id"]
        experiment = client.get(f"{API}/experiments/{tracked['experiment_id']}").json()
        assert experiment["name"] == "pipelines/fan_out"


class TestFailures:
    def test_a_failing_step_skips_what_follows_and_fails_the_run(
        self, app: FastAPI, client: TestClient
    ) -> None:
        register(client, examples.failing)
        run = start_run(client, "failing", message="disk on fire")
        run_jobs(app)
        done = read_run(client, "failing", run["id"])
        assert done["state"] == "failed"
        assert done["error"] == "step fail failed: RuntimeError: disk on fire"
        assert "RuntimeError: disk on fire" in done["traceback"]
        steps = steps_by_name(done)
        assert steps["fail"]["state"] == "failed"
        assert steps["after_failure"]["state"] == "skipped"
        assert steps["after_failure"]["attempts"] == 0
        tracked = client.get(f"{API}/runs/{done['tracking_run_id']}").json()
        assert tracked["status"] == "failed"

    def test_the_pipelines_owners_are_told_in_the_app(self, app: FastAPI) -> None:
        owner = api(app, access_token(app, make_member(app, Role.ml_engineer)))
        scientist = api(app, access_token(app, make_member(app, Role.data_scientist)))
        viewer = api(app, access_token(app, make_member(app, Role.viewer)))
        register(owner, examples.failing)
        run = start_run(scientist, "failing", message="disk on fire")
        run_jobs(app)
        [notice] = owner.get(f"{API}/notifications").json()["items"]
        assert notice["kind"] == "pipeline_run.failed"
        assert notice["title"] == "pipeline failing run failed"
        assert "disk on fire" in notice["body"]
        assert notice["link"] == f"/pipelines/failing/runs/{run['id']}"
        # Whoever asked for the run hears too; a member with nothing to do with it does not.
        assert len(scientist.get(f"{API}/notifications").json()["items"]) == 1
        assert viewer.get(f"{API}/notifications").json()["items"] == []

    def test_a_step_past_its_timeout_fails_instead_of_hanging(self, app: FastAPI, client: TestClient) -> None:
        register(client, examples.hanging)
        run = start_run(client, "hanging")
        run_jobs(app)
        done = read_run(client, "hanging", run["id"])
        assert done["state"] == "failed"
        assert (
            done["error"] == "step stuck failed: TimeoutError: step stuck ran longer than its timeout of 1 s"
        )
        steps = steps_by_name(done)
        assert steps["stuck"]["wall_seconds"] >= 1.0
        assert steps["after_failure"]["state"] == "skipped"

    def test_a_step_past_its_timeout_stops_alone_beside_another_runs_steps(
        self, app: FastAPI, client: TestClient
    ) -> None:
        # Runs share the worker's step processes: the late step's process is killed, not the
        # other run's step running beside it, which finishes on its first attempt.
        register(client, examples.hanging)
        register(client, examples.fan_out)
        hanging = start_run(client, "hanging")
        fan_out = start_run(client, "fan_out", seconds=2.0)
        worker = Worker(kiln_state(app).db, concurrency=2, poll_seconds=0.05)
        worker.start()
        try:
            stuck = wait_for_run(client, "hanging", hanging["id"], {"failed", "succeeded"})
            beside = wait_for_run(client, "fan_out", fan_out["id"], {"failed", "succeeded"})
        finally:
            worker.stop()
        assert stuck["state"] == "failed"
        assert "ran longer than its timeout of 1 s" in stuck["error"]
        assert beside["state"] == "succeeded", beside
        assert all(step["attempts"] == 1 for step in beside["steps"]), beside["steps"]

    def test_a_step_is_retried_until_it_succeeds(
        self, app: FastAPI, client: TestClient, tmp_path: Path
    ) -> None:
        register(client, examples.retrying)
        marker = tmp_path / "calls"
        run = start_run(client, "retrying", marker=str(marker), failures=2)
        run_jobs(app)
        done = read_run(client, "retrying", run["id"])
        assert done["state"] == "succeeded", done
        [step] = done["steps"]
        assert step["attempts"] == 3
        assert marker.read_text() == "3"
        logs = client.get(f"{API}/pipelines/retrying/runs/{run['id']}/logs").json()[0]["lines"]
        assert any("attempt 1 failed; retrying" in line for line in logs)

    def test_a_step_out_of_retries_fails_the_run(
        self, app: FastAPI, client: TestClient, tmp_path: Path
    ) -> None:
        register(client, examples.retrying)
        run = start_run(client, "retrying", marker=str(tmp_path / "calls"), failures=10)
        run_jobs(app)
        done = read_run(client, "retrying", run["id"])
        assert done["state"] == "failed"
        assert done["steps"][0]["attempts"] == 3


class TestParameters:
    def test_a_bad_parameter_is_refused_before_anything_runs(self, app: FastAPI, client: TestClient) -> None:
        register(client, examples.training)
        for parameters, message in [
            ({"rows": 5}, "rows must be at least 10"),
            ({"rows": "many"}, "rows must be an integer"),
            ({"alpha": 2}, "alpha must be at most 1"),
            ({"colour": "red"}, "colour is not a parameter of this pipeline"),
        ]:
            response = client.post(f"{API}/pipelines/training/runs", json={"parameters": parameters})
            assert response.status_code == 422, response.text
            assert message in error_of(response)["message"]
        assert client.get(f"{API}/pipelines/training/runs").json()["items"] == []
        assert client.get(f"{API}/jobs", params={"kind": "pipelines.run"}).json()["items"] == []
