"""The same pipeline on a real Dask LocalCluster with two worker processes (KILN_PIPELINE_EXECUTOR)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import KilnSettings, create_app, kiln_state
from kiln.pipelines.settings import PipelineSettings
from tests.api import API
from tests.builders.auth import make_user_token
from tests.builders.pipelines import read_run, register, run_jobs, start_run, steps_by_name

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster_address() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield str(cluster.scheduler_address)


@pytest.fixture
def dask_app(settings: KilnSettings, cluster_address: str) -> Iterator[FastAPI]:
    on_dask = settings.model_copy(
        update={"pipelines": PipelineSettings(executor=cluster_address, processes=2)}
    )
    application = create_app(on_dask, migrate=False)
    yield application
    kiln_state(application).db.dispose()


@pytest.fixture
def dask_client(dask_app: FastAPI, admin_token_for_dask: str) -> Iterator[TestClient]:
    with TestClient(dask_app, headers={"Authorization": f"Bearer {admin_token_for_dask}"}) as client:
        yield client


@pytest.fixture
def admin_token_for_dask(dask_app: FastAPI) -> str:
    return make_user_token(dask_app, "admin@kiln.test", role="admin")


class TestDaskExecutor:
    def test_steps_run_on_two_dask_workers_in_parallel(
        self, dask_app: FastAPI, dask_client: TestClient
    ) -> None:
        register(dask_client, examples.fan_out)
        run = start_run(dask_client, "fan_out", seconds=1.0)
        run_jobs(dask_app)
        done = read_run(dask_client, "fan_out", run["id"])
        assert done["state"] == "succeeded", done
        steps = steps_by_name(done)
        a, b = steps["wait_a_moment"], steps["wait_a_moment_2"]
        assert datetime.fromisoformat(a["started_at"]) < datetime.fromisoformat(b["finished_at"])
        assert datetime.fromisoformat(b["started_at"]) < datetime.fromisoformat(a["finished_at"])

    def test_dataframes_and_failures_on_dask(self, dask_app: FastAPI, dask_client: TestClient) -> None:
        register(dask_client, examples.training)
        register(dask_client, examples.failing)
        good = start_run(dask_client, "training", rows=100)
        bad = start_run(dask_client, "failing", message="no")
        run_jobs(dask_app)
        trained = read_run(dask_client, "training", good["id"])
        assert trained["state"] == "succeeded", trained
        steps = steps_by_name(trained)
        assert steps["validate"]["output"]["format"] == "parquet"
        # Every step's record is whole, as on the local executor: times, resources, output, log.
        store = kiln_state(dask_app).store
        for step in steps.values():
            assert step["attempts"] == 1
            for recorded in ("started_at", "finished_at", "wall_seconds", "cpu_seconds"):
                assert step[recorded] is not None, (step["name"], recorded)
            assert step["peak_memory_bytes"] > 0
            output = step["output"]
            assert store.read_verified(output["key"], sha256=output["sha256"], size=output["size"])
        logs = dask_client.get(
            f"{API}/pipelines/training/runs/{good['id']}/logs", params={"step": "make_data"}
        ).json()
        assert any(line.endswith("INFO made 100 rows") for line in logs[0]["lines"]), logs
        failed = read_run(dask_client, "failing", bad["id"])
        assert failed["state"] == "failed"
        assert steps_by_name(failed)["after_failure"]["state"] == "skipped"

    def test_a_step_is_retried_on_dask_until_it_succeeds(
        self, dask_app: FastAPI, dask_client: TestClient, tmp_path: Path
    ) -> None:
        register(dask_client, examples.retrying)
        marker = tmp_path / "calls"
        run = start_run(dask_client, "retrying", marker=str(marker), failures=2)
        run_jobs(dask_app)
        done = read_run(dask_client, "retrying", run["id"])
        assert done["state"] == "succeeded", done
        [step] = done["steps"]
        assert step["attempts"] == 3
        assert marker.read_text() == "3"
        logs = dask_client.get(f"{API}/pipelines/retrying/runs/{run['id']}/logs").json()[0]["lines"]
        assert any("attempt 1 failed; retrying" in line for line in logs)
        assert any("RuntimeError: call 2 fails on purpose" in line for line in logs)

    def test_a_step_past_its_timeout_on_dask_fails_and_skips_what_follows(
        self, dask_app: FastAPI, dask_client: TestClient
    ) -> None:
        register(dask_client, examples.hanging)
        # Dask cannot interrupt the task: it sleeps its 3 s out on the worker after the run moved on.
        run = start_run(dask_client, "hanging", seconds=3.0)
        run_jobs(dask_app)
        done = read_run(dask_client, "hanging", run["id"])
        assert done["state"] == "failed"
        assert (
            done["error"] == "step stuck failed: TimeoutError: step stuck ran longer than its timeout of 1 s"
        )
        steps = steps_by_name(done)
        assert steps["stuck"]["state"] == "failed"
        assert steps["after_failure"]["state"] == "skipped"
