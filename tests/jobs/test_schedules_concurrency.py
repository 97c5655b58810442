"""Two schedulers (two processes' engines on one database) fire each due fire exactly once.

On PostgreSQL they really race: threads, each scheduler on its own engine and sessions, released
together by a barrier. SQLite has one writer at a time, so there the two take turns, including the
turn that matters: one scheduler read the due schedule, the other fired it meanwhile.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from kiln.core.db import Database
from kiln.jobs.models import Job
from kiln.jobs.scheduler import Fired, fire, fire_due_schedules, next_due
from tests.builders.core import database
from tests.builders.jobs import make_schedule
from tests.jobs.handlers import ECHO

CREATED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
PARIS_2AM = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
SCHEDULES = 12
SCHEDULERS = 2
ROUNDS = 3


def fires_per_schedule(db: Database) -> Counter[tuple[str | None, datetime | None]]:
    with db.unit_of_work() as session:
        rows = session.execute(select(Job.schedule_id, Job.scheduled_for)).all()
    return Counter((row.schedule_id, row.scheduled_for) for row in rows)


def job_count(db: Database) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


@pytest.fixture
def second_scheduler(app: FastAPI) -> Iterator[Database]:
    """Another process's engine on the same database (its own pool, its own connections)."""
    other = Database(database(app).engine.url.render_as_string(hide_password=False))
    yield other
    other.dispose()


class TestTwoSchedulers:
    def test_taking_turns_they_enqueue_one_job(self, app: FastAPI, second_scheduler: Database) -> None:
        make_schedule(app, ECHO, time_zone="Europe/Paris", now=CREATED)
        first = fire_due_schedules(database(app), now=PARIS_2AM)
        second = fire_due_schedules(second_scheduler, now=PARIS_2AM)
        assert (first.jobs, second.jobs) == (1, 0)
        assert job_count(database(app)) == 1

    def test_a_fire_read_by_one_and_fired_by_the_other_is_not_fired_again(
        self, app: FastAPI, second_scheduler: Database
    ) -> None:
        make_schedule(app, ECHO, time_zone="Europe/Paris", now=CREATED)
        db = database(app)
        with db.unit_of_work() as slow:
            row = next_due(slow, PARIS_2AM)
            assert row is not None
            if db.is_sqlite:
                # SQLite takes no row lock on reading: the other scheduler fires the schedule...
                assert fire_due_schedules(second_scheduler, now=PARIS_2AM).jobs == 1
                # ...and the slow one's conditional update finds the fire taken.
                assert fire(slow, row, PARIS_2AM) is None
            else:
                # PostgreSQL: the slow one holds the row; the other skips it rather than wait...
                assert fire_due_schedules(second_scheduler, now=PARIS_2AM).jobs == 0
                assert fire(slow, row, PARIS_2AM) == 1
        # ...and once it has committed there is nothing left for the other to take.
        assert fire_due_schedules(second_scheduler, now=PARIS_2AM).jobs == 0
        assert job_count(db) == 1

    def test_racing_schedulers_enqueue_exactly_one_job_per_due_fire(
        self, app: FastAPI, second_scheduler: Database
    ) -> None:
        db = database(app)
        if db.is_sqlite:
            pytest.skip("SQLite has one writer at a time: the turns above are its race")
        ids = [make_schedule(app, ECHO, cron="0 * * * *", now=CREATED) for _ in range(SCHEDULES)]
        engines = [db, second_scheduler]
        results: list[Fired] = []
        lock = threading.Lock()

        def scheduler(engine: Database, at: datetime, start: threading.Barrier) -> None:
            start.wait()
            fired = fire_due_schedules(engine, now=at)
            with lock:
                results.append(fired)

        # Each round both schedulers tick at the same hour, at the same moment.
        for hour in range(1, ROUNDS + 1):
            at = CREATED + timedelta(hours=hour)
            start = threading.Barrier(SCHEDULERS)
            threads = [threading.Thread(target=scheduler, args=(engine, at, start)) for engine in engines]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        fires = fires_per_schedule(db)
        expected = {
            (schedule_id, CREATED + timedelta(hours=hour))
            for schedule_id in ids
            for hour in range(1, ROUNDS + 1)
        }
        assert set(fires) == expected
        assert max(fires.values()) == 1, "a fire was enqueued twice"
        assert sum(result.jobs for result in results) == SCHEDULES * ROUNDS
