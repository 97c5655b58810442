"""``kiln server`` runs one worker in its lifespan, unless ``KILN_WORKER=0`` (``--no-worker``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kiln.app import KilnSettings, create_app, kiln_state
from kiln.core.ids import utcnow
from kiln.jobs.models import Job
from kiln.jobs.settings import WorkerSettings
from tests.builders.core import database
from tests.builders.jobs import make_job, make_schedule
from tests.jobs.handlers import ECHO
from tests.jobs.test_retries import job_row
from tests.jobs.test_worker import wait_for


def test_the_server_runs_queued_jobs_in_process(settings: KilnSettings) -> None:
    app = create_app(settings.with_sections(worker={"enabled": True, "poll_seconds": 60}), migrate=False)
    try:
        with TestClient(app):
            worker = kiln_state(app).job_worker
            assert worker is not None
            job_id = make_job(database(app), ECHO, {"in": "process"})
            wait_for(
                lambda: job_row(app, job_id)[0].state == "succeeded", "the embedded worker to run the job"
            )
        assert worker.running_jobs() == []
    finally:
        kiln_state(app).db.dispose()


def test_kiln_worker_0_turns_the_in_process_worker_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert WorkerSettings().enabled
    monkeypatch.setenv("KILN_WORKER", "0")
    assert not WorkerSettings().enabled


def test_test_apps_start_no_worker_unless_asked(app: FastAPI) -> None:
    assert kiln_state(app).job_worker is None


def test_the_servers_worker_fires_due_schedules(settings: KilnSettings) -> None:
    app = create_app(settings.with_sections(worker={"enabled": True, "poll_seconds": 60}), migrate=False)
    try:
        # Due since a few minutes (the server was down): "once" catches it up with one job.
        schedule_id = make_schedule(
            app, ECHO, cron="* * * * *", now=utcnow() - timedelta(minutes=5), catch_up="once"
        )
        with TestClient(app):
            wait_for(
                lambda: _scheduled_states(app, schedule_id) == ["succeeded"], "the schedule's job to run"
            )
    finally:
        kiln_state(app).db.dispose()


def _scheduled_states(app: FastAPI, schedule_id: str) -> list[str]:
    with database(app).unit_of_work() as session:
        return list(session.scalars(select(Job.state).where(Job.schedule_id == schedule_id)))
