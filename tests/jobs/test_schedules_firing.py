"""The scheduler's tick with a clock the test sets: fires on time, in the schedule's zone, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select, update

from kiln.core.db import Database
from kiln.jobs.models import Job, Schedule
from kiln.jobs.scheduler import fire_due_schedules
from kiln.jobs.settings import WorkerSettings
from kiln.jobs.worker import Worker, worker_from_settings
from tests.builders.core import database
from tests.builders.jobs import make_schedule
from tests.jobs.handlers import ECHO, RAN

# A winter day: Paris is UTC+1, so 02:00 in Paris is 01:00 UTC.
CREATED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
PARIS_2AM = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)


def jobs_of(db: Database, schedule_id: str) -> list[Job]:
    with db.unit_of_work() as session:
        found = session.scalars(
            select(Job).where(Job.schedule_id == schedule_id).order_by(Job.scheduled_for)
        ).all()
        session.expunge_all()
        return list(found)


def schedule_row(db: Database, schedule_id: str) -> Schedule:
    with db.unit_of_work() as session:
        schedule = session.get(Schedule, schedule_id)
        assert schedule is not None
        session.expunge(schedule)
        return schedule


def daily_paris(app: FastAPI, **fields: object) -> str:
    return make_schedule(app, ECHO, cron="0 2 * * *", time_zone="Europe/Paris", now=CREATED, **fields)


class TestOnTime:
    def test_daily_at_two_in_paris_first_fires_at_one_utc_in_winter(self, app: FastAPI) -> None:
        schedule_id = daily_paris(app)
        assert schedule_row(database(app), schedule_id).next_fire_at == PARIS_2AM

    def test_it_fires_once_at_its_time_with_its_payload(self, app: FastAPI) -> None:
        db = database(app)
        schedule_id = daily_paris(app, payload={"dataset": "telemetry"})
        assert fire_due_schedules(db, now=PARIS_2AM - timedelta(seconds=1)).jobs == 0
        assert jobs_of(db, schedule_id) == []

        fired = fire_due_schedules(db, now=PARIS_2AM)
        assert (fired.schedules, fired.jobs) == (1, 1)
        [job] = jobs_of(db, schedule_id)
        assert (job.kind, job.payload, job.state, job.scheduled_for) == (
            ECHO,
            {"dataset": "telemetry"},
            "queued",
            PARIS_2AM,
        )
        # Ticking again (the same scheduler, a second later) finds nothing more to do.
        assert fire_due_schedules(db, now=PARIS_2AM + timedelta(seconds=1)).jobs == 0
        schedule = schedule_row(db, schedule_id)
        assert schedule.next_fire_at == PARIS_2AM + timedelta(days=1)
        assert (schedule.last_fired_at, schedule.last_job_id) == (PARIS_2AM, job.id)

    def test_summer_time_moves_the_utc_fire_time(self, app: FastAPI) -> None:
        schedule_id = make_schedule(
            app, ECHO, time_zone="Europe/Paris", now=datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
        )
        # Paris is UTC+2 in June.
        assert schedule_row(database(app), schedule_id).next_fire_at == datetime(
            2026, 6, 11, 0, 0, tzinfo=UTC
        )

    def test_a_disabled_schedule_never_fires(self, app: FastAPI) -> None:
        db = database(app)
        schedule_id = daily_paris(app, enabled=False)
        assert schedule_row(db, schedule_id).next_fire_at is None
        assert fire_due_schedules(db, now=PARIS_2AM + timedelta(days=3)).jobs == 0
        assert jobs_of(db, schedule_id) == []

    def test_the_jobs_are_the_schedule_makers_and_of_its_project(self, app: FastAPI) -> None:
        db = database(app)
        schedule_id = daily_paris(app)
        fire_due_schedules(db, now=PARIS_2AM)
        [job] = jobs_of(db, schedule_id)
        schedule = schedule_row(db, schedule_id)
        assert (job.project_id, job.enqueued_by) == (schedule.project_id, schedule.created_by)


class TestTheWorkerTicks:
    def test_a_worker_fires_a_due_schedule_and_runs_its_job(self, app: FastAPI) -> None:
        db = database(app)
        schedule_id = daily_paris(app)
        worker = Worker(db, kinds=[ECHO], clock=lambda: PARIS_2AM, schedule_seconds=1)
        assert worker.tick_schedules().jobs == 1
        assert worker.run_pending() == 1
        [job] = jobs_of(db, schedule_id)
        assert (job.state, RAN[job.id]) == ("succeeded", [1])

    def test_workers_from_settings_fire_schedules_unless_told_not_to(self, app: FastAPI) -> None:
        db = database(app)
        assert worker_from_settings(db, WorkerSettings(schedule_seconds=7)).schedule_seconds == 7
        assert worker_from_settings(db, WorkerSettings(schedules=False)).schedule_seconds is None
        idle = Worker(db, kinds=[ECHO], clock=lambda: PARIS_2AM)
        daily_paris(app)
        idle._tick_schedules_when_due()  # a worker without schedule_seconds fires nothing
        assert fire_due_schedules(db, now=PARIS_2AM).jobs == 1


class TestCatchUp:
    """Hourly, made at 00:30; no scheduler ran until 05:10, so 01:00 to 05:00 were missed."""

    MADE = datetime(2026, 12, 4, 0, 30, tzinfo=UTC)
    BACK = datetime(2026, 12, 4, 5, 10, tzinfo=UTC)

    def hourly(self, app: FastAPI, catch_up: str) -> str:
        return make_schedule(app, ECHO, cron="0 * * * *", now=self.MADE, catch_up=catch_up)

    def hours(self, *hours: int) -> list[datetime]:
        return [self.MADE.replace(hour=hour, minute=0) for hour in hours]

    def test_skip_enqueues_none_and_waits_for_the_next_fire(self, app: FastAPI) -> None:
        db = database(app)
        schedule_id = self.hourly(app, "skip")
        assert fire_due_schedules(db, now=self.BACK).jobs == 0
        assert jobs_of(db, schedule_id) == []
        assert schedule_row(db, schedule_id).next_fire_at == self.hours(6)[0]

    def test_skip_still_runs_a_fire_that_is_on_time(self, app: FastAPI) -> None:
        db = database(app)
        schedule_id = self.hourly(app, "skip")
        fire_due_schedules(db, now=self.hours(5)[0] + timedelta(seconds=30))
        assert [job.scheduled_for for job in jobs_of(db, schedule_id)] == self.hours(5)

    def test_once_enqueues_one_job_for_the_latest_fire(self, app: FastAPI) -> None:
        db = database(app)
        schedule_id = self.hourly(app, "once")
        assert fire_due_schedules(db, now=self.BACK).jobs == 1
        assert [job.scheduled_for for job in jobs_of(db, schedule_id)] == self.hours(5)
        assert schedule_row(db, schedule_id).next_fire_at == self.hours(6)[0]

    def test_all_enqueues_one_job_per_missed_fire(self, app: FastAPI) -> None:
        db = database(app)
        schedule_id = self.hourly(app, "all")
        assert fire_due_schedules(db, now=self.BACK).jobs == 5
        assert [job.scheduled_for for job in jobs_of(db, schedule_id)] == self.hours(1, 2, 3, 4, 5)
        assert fire_due_schedules(db, now=self.BACK).jobs == 0
        assert schedule_row(db, schedule_id).next_fire_at == self.hours(6)[0]

    def test_once_after_a_long_absence_takes_the_latest_fire(self, app: FastAPI) -> None:
        db = database(app)
        schedule_id = make_schedule(app, ECHO, cron="* * * * *", now=self.MADE, catch_up="once")
        fire_due_schedules(db, now=self.MADE + timedelta(days=2, seconds=5))
        assert [job.scheduled_for for job in jobs_of(db, schedule_id)] == [self.MADE + timedelta(days=2)]

    def test_all_is_capped_to_the_latest_hundred_fires(self, app: FastAPI) -> None:
        db = database(app)
        schedule_id = make_schedule(app, ECHO, cron="* * * * *", now=self.MADE, catch_up="all")
        back = self.MADE + timedelta(hours=3, seconds=20)  # 180 minutely fires missed
        assert fire_due_schedules(db, now=back).jobs == 100
        fires = [job.scheduled_for for job in jobs_of(db, schedule_id)]
        assert fires[-1] == self.MADE + timedelta(hours=3)
        assert fires[0] == self.MADE + timedelta(hours=3, minutes=-99)
        assert schedule_row(db, schedule_id).next_fire_at == self.MADE + timedelta(hours=3, minutes=1)

    def test_a_missed_day_in_paris_is_caught_up_once(self, app: FastAPI) -> None:
        db = database(app)
        schedule_id = daily_paris(app, catch_up="once")
        three_days_later = PARIS_2AM + timedelta(days=2, hours=5)
        assert fire_due_schedules(db, now=three_days_later).jobs == 1
        [job] = jobs_of(db, schedule_id)
        assert job.scheduled_for == PARIS_2AM + timedelta(days=2)
        assert schedule_row(db, schedule_id).next_fire_at == PARIS_2AM + timedelta(days=3)


class TestUnreadable:
    def test_a_schedule_whose_zone_vanished_stops_and_the_others_fire(self, app: FastAPI) -> None:
        db = database(app)
        broken = daily_paris(app)
        healthy = daily_paris(app)
        # As after a tzdata update that dropped the zone: the row holds a name zoneinfo cannot open.
        with db.unit_of_work() as session:
            session.execute(update(Schedule).where(Schedule.id == broken).values(time_zone="Nowhere/Gone"))
        assert fire_due_schedules(db, now=PARIS_2AM).jobs == 1
        assert [len(jobs_of(db, broken)), len(jobs_of(db, healthy))] == [0, 1]
        assert schedule_row(db, broken).next_fire_at is None
