"""Cancelling a running pipeline run's job stops its steps and ends the run cancelled."""

from __future__ import annotations

import time
from pathlib import Path

from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.jobs.worker import Worker
from kiln.pipelines.runs import RUN_JOB
from tests.api import API
from tests.builders.pipelines import RUN_DEADLINE, read_run, register, start_run, steps_by_name, wait_for_run


class TestCancel:
    def test_a_cancelled_run_stops_and_skips_what_did_not_finish(
        self, app: FastAPI, client: TestClient, tmp_path: Path
    ) -> None:
        register(client, examples.resumable)
        run = start_run(client, "resumable", marker=str(tmp_path / "calls"), release=str(tmp_path / "never"))
        worker = Worker(kiln_state(app).db, kinds=[RUN_JOB], lease_seconds=3, poll_seconds=0.1)
        worker.start()
        try:
            deadline = time.monotonic() + RUN_DEADLINE
            while (
                steps_by_name(read_run(client, "resumable", run["id"]))["wait_for_file"]["state"] != "running"
            ):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert client.post(f"{API}/jobs/{run['job_id']}/cancel").status_code == 200
            done = wait_for_run(client, "resumable", run["id"], {"cancelled", "failed", "succeeded"})
        finally:
            worker.stop(grace_seconds=5)
        assert done["state"] == "cancelled"
        steps = steps_by_name(done)
        assert steps["count_call"]["state"] == "succeeded"
        assert steps["wait_for_file"]["state"] == "skipped"
        assert client.get(f"{API}/runs/{done['tracking_run_id']}").json()["status"] == "failed"
