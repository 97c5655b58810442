"""The worker in the background: runs registered kinds, stops handlers on cancel, stops gracefully."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from kiln.jobs import service
from kiln.jobs.worker import Worker
from tests.builders.core import database
from tests.builders.jobs import make_job
from tests.jobs import handlers
from tests.jobs.handlers import BLOCKING, ECHO
from tests.jobs.test_retries import job_row

DEADLINE = 10.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.fixture
def blocking() -> Iterator[None]:
    handlers.RELEASE.clear()
    handlers.STARTED.clear()
    yield
    handlers.RELEASE.set()


def state_of(app: FastAPI, job_id: str) -> str:
    return job_row(app, job_id)[0].state


class TestWorker:
    def test_a_started_worker_runs_a_queued_job_end_to_end(self, app: FastAPI) -> None:
        # A long poll: the commit that queued the job wakes the worker, not the poll.
        worker = Worker(database(app), kinds=[ECHO], concurrency=2, poll_seconds=60)
        worker.start()
        try:
            job_id = make_job(database(app), ECHO, {"hello": "world"})
            wait_for(lambda: state_of(app, job_id) == "succeeded", "the job to succeed")
        finally:
            worker.stop()
        assert job_row(app, job_id)[0].result == {"echo": {"hello": "world"}}

    def test_cancelling_a_running_job_stops_its_handler_at_the_next_heartbeat(
        self, app: FastAPI, blocking: None
    ) -> None:
        worker = Worker(database(app), kinds=[BLOCKING], heartbeat_seconds=0.02, poll_seconds=60)
        worker.start()
        try:
            job_id = make_job(database(app), BLOCKING)
            assert handlers.STARTED.wait(DEADLINE)
            with database(app).unit_of_work() as session:
                service.request_cancel(session, job_id)
            wait_for(lambda: state_of(app, job_id) == "cancelled", "the job to be cancelled")
        finally:
            worker.stop()
        assert [a.outcome for a in job_row(app, job_id)[1]] == ["cancelled"]

    def test_stopping_gives_a_running_job_back_to_the_queue(self, app: FastAPI, blocking: None) -> None:
        worker = Worker(database(app), kinds=[BLOCKING], poll_seconds=60)
        worker.start()
        job_id = make_job(database(app), BLOCKING)
        assert handlers.STARTED.wait(DEADLINE)
        worker.stop(grace_seconds=0)
        job, attempts = job_row(app, job_id)
        # Released, not failed: the attempt does not use up the job's budget.
        assert (job.state, job.attempts, job.max_attempts) == ("queued", 1, 3)
        assert [a.outcome for a in attempts] == ["released"]
        handlers.RELEASE.set()
        assert Worker(database(app), kinds=[BLOCKING]).run_pending() == 1
        assert state_of(app, job_id) == "succeeded"
