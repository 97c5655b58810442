"""A worker that dies stops heartbeating; another worker takes its job over when the lease expires."""

from __future__ import annotations

from fastapi import FastAPI

from kiln.jobs import outcomes, queue
from kiln.jobs.worker import Worker
from tests.builders.core import database
from tests.builders.jobs import make_job
from tests.jobs.clock import Clock
from tests.jobs.handlers import ECHO, RAN
from tests.jobs.test_retries import job_row

LEASE = 30.0


class TestExpiredLeases:
    def test_another_worker_reclaims_a_job_whose_worker_died(self, app: FastAPI) -> None:
        db = database(app)
        job_id = make_job(db, ECHO)
        clock = Clock()
        # The first worker claims the job and then dies: it never runs or heartbeats it.
        [lost] = queue.claim(db, "dead-worker", kinds=[ECHO], lease_seconds=LEASE, now=clock())
        survivor = Worker(db, kinds=[ECHO], worker_id="survivor", lease_seconds=LEASE, clock=clock)
        assert survivor.run_pending() == 0, "the lease has not expired yet"
        clock.advance(LEASE + 1)
        assert survivor.run_pending() == 1

        job, attempts = job_row(app, job_id)
        assert (job.state, job.attempts) == ("succeeded", 2)
        assert RAN[job_id] == [2]
        assert [(a.worker_id, a.outcome) for a in attempts] == [
            ("dead-worker", "lost"),
            ("survivor", "succeeded"),
        ]
        assert attempts[0].error == "lease expired: worker dead-worker stopped heartbeating"
        # The dead worker's late outcome is dropped: the job is no longer its attempt's.
        assert outcomes.succeed(db, lost, "dead-worker", {"late": True}) is False

    def test_a_heartbeat_keeps_the_job(self, app: FastAPI) -> None:
        db = database(app)
        make_job(db, ECHO)
        clock = Clock()
        [held] = queue.claim(db, "alive", kinds=[ECHO], lease_seconds=LEASE, now=clock())
        clock.advance(LEASE - 1)
        beat = queue.heartbeat(db, "alive", [held.id], lease_seconds=LEASE, now=clock())
        assert beat.lost == frozenset()
        clock.advance(LEASE - 1)
        assert queue.claim(db, "other", kinds=[ECHO], now=clock()) == []

    def test_the_old_worker_learns_at_its_next_heartbeat_that_it_lost_the_job(self, app: FastAPI) -> None:
        db = database(app)
        make_job(db, ECHO)
        clock = Clock()
        [held] = queue.claim(db, "slow", kinds=[ECHO], lease_seconds=LEASE, now=clock())
        clock.advance(LEASE + 1)
        assert len(queue.claim(db, "other", kinds=[ECHO], now=clock())) == 1
        assert queue.heartbeat(db, "slow", [held.id], now=clock()).lost == {held.id}

    def test_a_job_lost_on_its_last_attempt_fails(self, app: FastAPI) -> None:
        db = database(app)
        job_id = make_job(db, ECHO, max_attempts=1)
        clock = Clock()
        queue.claim(db, "dead-worker", kinds=[ECHO], lease_seconds=LEASE, now=clock())
        clock.advance(LEASE + 1)
        assert queue.claim(db, "other", kinds=[ECHO], now=clock()) == []
        job, attempts = job_row(app, job_id)
        assert job.state == "failed"
        assert (
            job.last_error
            == "lease expired: worker dead-worker stopped heartbeating, on the last of 1 attempts"
        )
        assert [a.outcome for a in attempts] == ["lost"]
