"""A failing handler is retried after an exponential backoff, then fails with its traceback."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from kiln.jobs.models import Job, JobAttempt
from kiln.jobs.worker import Worker
from tests.builders.core import database
from tests.builders.jobs import make_job
from tests.jobs.clock import Clock
from tests.jobs.handlers import FLAKY, RAN


def job_row(app: FastAPI, job_id: str) -> tuple[Job, list[JobAttempt]]:
    with database(app).unit_of_work() as session:
        job = session.get_one(Job, job_id)
        attempts = list(
            session.query(JobAttempt).filter(JobAttempt.job_id == job_id).order_by(JobAttempt.number)
        )
        return job, attempts


class TestRetries:
    def test_each_retry_waits_twice_as_long_then_the_job_fails_with_its_traceback(self, app: FastAPI) -> None:
        job_id = make_job(database(app), FLAKY)
        clock = Clock()
        worker = Worker(database(app), kinds=[FLAKY], clock=clock)

        assert worker.run_pending() == 1
        job, _ = job_row(app, job_id)
        assert (job.state, job.run_after) == ("queued", clock.now + timedelta(seconds=10))
        clock.advance(9)
        assert worker.run_pending() == 0, "ran before its backoff was over"
        clock.advance(1)
        assert worker.run_pending() == 1
        job, _ = job_row(app, job_id)
        assert job.run_after == clock.now + timedelta(seconds=20)
        clock.advance(20)
        assert worker.run_pending() == 1

        job, attempts = job_row(app, job_id)
        assert RAN[job_id] == [1, 2, 3]
        assert (job.state, job.attempts) == ("failed", 3)
        assert job.last_error == "RuntimeError: attempt 3 broke"
        assert job.last_traceback is not None
        assert "Traceback" in job.last_traceback
        assert "in flaky" in job.last_traceback
        assert [(a.number, a.outcome, a.error) for a in attempts] == [
            (n, "failed", f"RuntimeError: attempt {n} broke") for n in (1, 2, 3)
        ]
        clock.advance(3600)
        assert worker.run_pending() == 0

    def test_a_retry_that_succeeds_ends_the_job_succeeded(self, app: FastAPI) -> None:
        job_id = make_job(database(app), FLAKY, {"failures": 1})
        clock = Clock()
        worker = Worker(database(app), kinds=[FLAKY], clock=clock)
        worker.run_pending()
        clock.advance(10)
        worker.run_pending()
        job, attempts = job_row(app, job_id)
        assert (job.state, job.result) == ("succeeded", {"succeeded_on": 2})
        assert [a.outcome for a in attempts] == ["failed", "succeeded"]

    def test_a_permanent_failure_is_not_retried(self, app: FastAPI) -> None:
        worker = Worker(database(app), kinds=[FLAKY])
        job_id = make_job(database(app), FLAKY, {"permanent": True})
        worker.run_pending()
        job, _ = job_row(app, job_id)
        assert (job.state, job.attempts) == ("failed", 1)
        assert job.last_error is not None
        assert job.last_error.startswith("PermanentFailure: the input is bad")
