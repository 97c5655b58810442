"""The same pipeline on a real Dask LocalCluster with two worker processes (KILN_PIPELINE_EXECUTOR)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import KilnSettings, create_app, kiln_state
from kiln.pipelines.settings import PipelineSettings
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
        assert steps_by_name(trained)["validate"]["output"]["format"] == "parquet"
        failed = read_run(dask_client, "failing", bad["id"])
        assert failed["state"] == "failed"
        assert steps_by_name(failed)["after_failure"]["state"] == "skipped"
