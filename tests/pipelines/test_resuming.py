"""A killed worker's run resumes on another worker without redoing the steps that had finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import KilnSettings, kiln_state
from kiln.jobs.worker import Worker
from kiln.pipelines.runs import RUN_JOB
from tests.builders.pipelines import RUN_DEADLINE, read_run, register, start_run, steps_by_name
from tests.jobs.clock import Clock
from tests.settings import TEST_AUDIT_KEY

ROOT = Path(__file__).resolve().parents[2]


def _worker_process(settings: KilnSettings) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "KILN_HOME": str(settings.home),
        "KILN_DATABASE_URL": settings.resolved_database_url,
        "KILN_ARTIFACT_ROOT": str(settings.storage.artifact_root),
        "KILN_AUDIT_KEY": TEST_AUDIT_KEY,
        "KILN_SECRET_KEY": settings.secret_key or "",
        "KILN_LOG_LEVEL": "WARNING",
        "KILN_WORKER_LEASE_SECONDS": "2",
        "KILN_WORKER_POLL_SECONDS": "0.1",
    }
    # Its own session: the kill takes its fork server and step processes with it, as a crash would.
    return subprocess.Popen(
        [sys.executable, "-m", "kiln.cli.main", "worker", "--concurrency", "1"],
        cwd=ROOT,
        env=environment,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _until_second_step_runs(client: TestClient, run_id: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + RUN_DEADLINE
    while True:
        steps = steps_by_name(read_run(client, "resumable", run_id))
        if steps["count_call"]["state"] == "succeeded" and steps["wait_for_file"]["state"] == "running":
            return
        assert process.poll() is None, "the worker exited"
        assert time.monotonic() < deadline, steps
        time.sleep(0.05)


class TestResume:
    def test_a_killed_workers_run_resumes_without_redoing_finished_steps(
        self, app: FastAPI, client: TestClient, settings: KilnSettings, tmp_path: Path
    ) -> None:
        marker, release = tmp_path / "calls", tmp_path / "release"
        register(client, examples.resumable)
        run = start_run(client, "resumable", marker=str(marker), release=str(release))
        process = _worker_process(settings)
        try:
            _until_second_step_runs(client, run["id"], process)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        assert read_run(client, "resumable", run["id"])["state"] == "running"

        release.touch()
        clock = Clock()
        clock.advance(60)  # well past the dead worker's lease
        # Only pipeline runs: `kiln worker` also scheduled its recurring jobs, which the clock makes due.
        survivor = Worker(
            kiln_state(app).db, kinds=[RUN_JOB], worker_id="survivor", lease_seconds=30, clock=clock
        )
        assert survivor.run_pending() == 1

        done = read_run(client, "resumable", run["id"])
        assert done["state"] == "succeeded", done
        steps = steps_by_name(done)
        # The finished step was not run again: one call recorded, one attempt.
        assert marker.read_text() == "ran\n"
        assert steps["count_call"]["attempts"] == 1
        # The step that was running when the worker died ran again, to the end.
        assert steps["wait_for_file"]["attempts"] == 2
        assert steps["wait_for_file"]["state"] == "succeeded"
