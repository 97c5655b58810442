"""A cron schedule of kind ``pipelines.scheduled`` starts a run of its pipeline at each fire, once."""

from __future__ import annotations

from datetime import UTC, datetime

from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kiln.jobs.context import JobContext
from kiln.jobs.models import Job
from kiln.jobs.scheduler import fire_due_schedules
from kiln.pipelines.scheduled import SCHEDULED_JOB, start_scheduled_run
from tests.api import API
from tests.builders.core import database
from tests.builders.jobs import make_schedule
from tests.builders.pipelines import read_run, register, run_jobs

MADE = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FIRE = datetime(2026, 1, 2, 2, 0, tzinfo=UTC)


def _fire(app: FastAPI, payload: dict[str, object]) -> Job:
    make_schedule(app, SCHEDULED_JOB, payload=payload, now=MADE)
    assert fire_due_schedules(database(app), now=FIRE).jobs == 1
    with database(app).unit_of_work() as session:
        [job] = session.scalars(select(Job).where(Job.kind == SCHEDULED_JOB)).all()
        session.expunge(job)
        return job


class TestScheduledRuns:
    def test_a_fire_starts_one_run_with_its_parameters(self, app: FastAPI, client: TestClient) -> None:
        register(client, examples.on_new_data)
        job = _fire(app, {"pipeline": "on_new_data", "parameters": {"dataset_version": 3}})
        run_jobs(app)  # the scheduled job, then the run it queued
        [run] = client.get(f"{API}/pipelines/on_new_data/runs").json()["items"]
        assert run["triggered_by"] == f"schedule:{job.id}"
        assert run["parameters"] == {"dataset_version": 3}
        assert read_run(client, "on_new_data", run["id"])["state"] == "succeeded"

        # Delivered again (at least once): the run it started is found, no second one starts.
        context = JobContext(job.id, SCHEDULED_JOB, job.payload, 2, job.project_id, database(app))
        assert start_scheduled_run(context, artifact_root_url="unused") == {"run_id": run["id"]}
        assert len(client.get(f"{API}/pipelines/on_new_data/runs").json()["items"]) == 1

    def test_a_missing_pipeline_fails_the_job_saying_so(self, app: FastAPI, client: TestClient) -> None:
        job = _fire(app, {"pipeline": "nowhere"})
        run_jobs(app)
        failed = client.get(f"{API}/jobs/{job.id}").json()
        assert failed["state"] == "failed"
        assert "pipeline 'nowhere'" in failed["last_error"]
