"""Side effects run only after the transaction commits: never for data that was rolled back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiln.audit.chain import bind_audit_key
from kiln.audit.models import AuditRecord
from kiln.audit.service import record
from kiln.core import events
from kiln.core.actor import SYSTEM
from kiln.core.db import Database, after_commit
from tests.settings import TEST_AUDIT_KEY


class Boom(Exception):
    pass


def in_failed_transaction(db: Database, work: Callable[[Session], object]) -> None:
    """Do ``work`` in a unit of work that then fails, so it rolls back."""
    with db.unit_of_work() as session:
        work(session)
        raise Boom


@pytest.fixture(autouse=True)
def _sealed(migrated_database: Database) -> None:
    # These tests write audit records through the shared test database: seal them with the tests' key.
    bind_audit_key(migrated_database, TEST_AUDIT_KEY)


class TestAfterCommit:
    def test_callbacks_run_after_the_commit_in_order(self, migrated_database: Database) -> None:
        seen: list[str] = []
        with migrated_database.unit_of_work() as session:
            record(session, SYSTEM, "test.action", "test", "1")
            after_commit(session, lambda: seen.append("first"))
            after_commit(session, lambda: seen.append("second"))
            assert seen == []  # still inside the transaction
        assert seen == ["first", "second"]

    def test_a_rolled_back_transaction_drops_its_callbacks(self, migrated_database: Database) -> None:
        seen: list[str] = []

        def work(session: Session) -> None:
            record(session, SYSTEM, "test.rolled_back", "test", "1")
            after_commit(session, lambda: seen.append("sent"))

        with pytest.raises(Boom):
            in_failed_transaction(migrated_database, work)
        with migrated_database.unit_of_work() as session:
            count = session.scalar(
                select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "test.rolled_back")
            )
            session.commit()  # a later commit on a fresh session must not resurrect the dropped callback
        assert count == 0
        assert seen == []

    def test_a_failing_callback_neither_raises_nor_stops_others(self, migrated_database: Database) -> None:
        seen: list[str] = []

        def broken() -> None:
            raise RuntimeError("smtp down")

        with migrated_database.unit_of_work() as session:
            after_commit(session, broken)
            after_commit(session, lambda: seen.append("still ran"))
        assert seen == ["still ran"]


@dataclass(frozen=True, slots=True)
class ThingHappened(events.Event):
    name: str


class TestEvents:
    def test_subscribers_hear_an_event_once_it_commits(self, migrated_database: Database) -> None:
        heard: list[str] = []

        def handler(event: ThingHappened) -> None:
            heard.append(event.name)

        events.subscribe(ThingHappened, handler)
        events.subscribe(ThingHappened, handler)  # wiring twice subscribes once
        try:
            with migrated_database.unit_of_work() as session:
                events.publish(session, ThingHappened("promoted"))
                assert heard == []
            assert heard == ["promoted"]

            with pytest.raises(Boom):
                in_failed_transaction(
                    migrated_database, lambda session: events.publish(session, ThingHappened("rolled back"))
                )
            assert heard == ["promoted"]
        finally:
            events.unsubscribe(ThingHappened, handler)
