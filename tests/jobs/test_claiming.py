"""Claiming: concurrent claimers never share a job; priority and due time decide the order."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from fastapi import FastAPI

from kiln.core.ids import utcnow
from kiln.jobs import queue
from kiln.jobs.worker import Worker
from tests.builders.core import database
from tests.builders.jobs import make_job
from tests.jobs.handlers import ECHO, RAN

JOBS = 60
CLAIMERS = 4


class TestConcurrentClaims:
    def test_racing_claimers_each_get_distinct_jobs(self, app: FastAPI) -> None:
        db = database(app)
        job_ids = {make_job(db, ECHO, {"n": n}) for n in range(JOBS)}
        claimed: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(CLAIMERS)

        def claimer(worker: str) -> None:
            start.wait()
            while batch := queue.claim(db, worker, kinds=[ECHO], limit=3):
                with lock:
                    claimed.extend(job.id for job in batch)

        threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in range(CLAIMERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert Counter(claimed).most_common(1)[0][1] == 1, "a job was claimed twice"
        assert set(claimed) == job_ids

    def test_racing_workers_run_each_job_exactly_once(self, app: FastAPI) -> None:
        db = database(app)
        job_ids = [make_job(db, ECHO, {"n": n}) for n in range(JOBS)]
        workers = [Worker(db, kinds=[ECHO], worker_id=f"w{n}") for n in range(CLAIMERS)]
        start = threading.Barrier(CLAIMERS)

        def drain(worker: Worker) -> None:
            start.wait()
            worker.run_pending()

        threads = [threading.Thread(target=drain, args=(worker,)) for worker in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [RAN[job_id] for job_id in job_ids] == [[1]] * JOBS


class TestOrder:
    def test_higher_priority_first_then_the_longest_due(self, app: FastAPI) -> None:
        db = database(app)
        now = utcnow()
        old = make_job(db, ECHO, run_after=now - timedelta(minutes=5))
        new = make_job(db, ECHO, run_after=now - timedelta(minutes=1))
        urgent = make_job(db, ECHO, priority=10)
        claimed = queue.claim(db, "w", kinds=[ECHO], limit=10)
        assert [job.id for job in claimed] == [urgent, old, new]

    def test_a_job_due_later_waits(self, app: FastAPI) -> None:
        db = database(app)
        now = utcnow()
        later = make_job(db, ECHO, run_after=now + timedelta(minutes=1))
        assert queue.claim(db, "w", kinds=[ECHO], now=now) == []
        [claimed] = queue.claim(db, "w", kinds=[ECHO], now=now + timedelta(minutes=2))
        assert claimed.id == later

    def test_a_worker_claims_only_the_kinds_it_runs(self, app: FastAPI) -> None:
        db = database(app)
        make_job(db, ECHO)
        assert queue.claim(db, "w", kinds=["tests.other"]) == []
        assert len(queue.claim(db, "w", kinds=[ECHO])) == 1
