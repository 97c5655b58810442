"""Enqueueing: in the caller's transaction, for registered kinds only."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from kiln.core.errors import Invalid
from kiln.jobs import queue
from kiln.jobs.errors import UnknownJobKind
from kiln.jobs.kinds import register_job_kind
from kiln.jobs.models import Job
from kiln.jobs.worker import Worker
from tests.builders.core import database
from tests.jobs.handlers import ECHO, RAN, echo, flaky


def count_jobs(app: FastAPI) -> int:
    with database(app).unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


class TestEnqueue:
    def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists_nor_runs(self, app: FastAPI) -> None:
        db = database(app)
        session = db.sessionmaker()
        job_id = queue.enqueue(session, ECHO, {"n": 1})
        session.rollback()  # the request failed
        session.close()
        assert count_jobs(app) == 0
        assert Worker(db, kinds=[ECHO]).run_pending() == 0
        assert job_id not in RAN

    def test_a_committed_job_is_queued_and_runs(self, app: FastAPI) -> None:
        db = database(app)
        with db.unit_of_work() as session:
            job_id = queue.enqueue(session, ECHO, {"n": 2})
        assert Worker(db, kinds=[ECHO]).run_pending() == 1
        with db.unit_of_work() as session:
            job = session.get_one(Job, job_id)
            assert (job.state, job.result, job.attempts) == ("succeeded", {"echo": {"n": 2}}, 1)

    def test_an_unknown_kind_is_refused_naming_the_registered_ones(self, app: FastAPI) -> None:
        with (
            database(app).unit_of_work() as session,
            pytest.raises(UnknownJobKind, match=r"unknown job kind 'tests\.nope'.*tests\.echo"),
        ):
            queue.enqueue(session, "tests.nope", {})
        assert count_jobs(app) == 0

    def test_a_payload_that_is_not_json_is_refused(self, app: FastAPI) -> None:
        with database(app).unit_of_work() as session, pytest.raises(Invalid, match="payload must be JSON"):
            queue.enqueue(session, ECHO, {"when": object()})


class TestRegistration:
    def test_a_second_handler_under_a_taken_name_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"'tests\.echo' is already registered to .*echo"):
            register_job_kind(ECHO, flaky)

    def test_registering_the_same_kind_again_is_harmless(self) -> None:
        assert register_job_kind(ECHO, echo).handler is echo
