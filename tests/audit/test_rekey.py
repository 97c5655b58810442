"""Upgrading a trail written before the chain was keyed: the app re-keys it once at start."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from kiln.app import create_app, kiln_state
from kiln.audit import chain
from kiln.audit.models import AuditRecord
from kiln.core.settings import Settings
from tests.audit.builders import reseal_unkeyed, tamper
from tests.builders.audit import ALICE, BOB, append, audit_records
from tests.builders.core import database

Restart = Callable[[], FastAPI]


@pytest.fixture
def restart(settings: Settings) -> Iterator[Restart]:
    """Start the app again on the same database, as the next `kiln server` would."""
    started: list[FastAPI] = []

    def start() -> FastAPI:
        started.append(create_app(settings, migrate=False))
        return started[-1]

    yield start
    for app in started:
        kiln_state(app).db.dispose()


@pytest.fixture
def legacy_trail(app: FastAPI) -> list[int]:
    """Four records as an older release wrote them: plain sha256, scheme ``sha256``."""
    seqs = [
        append(app, ALICE, "user.created", "u-1", email="one@example.com"),
        append(app, BOB, "user.login", "u-1"),
        append(app, ALICE, "user.updated", "u-1", role="viewer"),
        append(app, ALICE, "project.created", "p-1", name="vision"),
    ]
    reseal_unkeyed(app, scheme="sha256")
    return seqs


def verify(app: FastAPI, expect_head: tuple[int, str] | None = None) -> chain.Verification:
    with database(app).unit_of_work() as session:
        return chain.verify_chain(session, expect_head=expect_head)


class TestRekey:
    def test_verify_refuses_an_unkeyed_trail_until_the_server_has_started(
        self, app: FastAPI, legacy_trail: list[int]
    ) -> None:
        result = verify(app)
        assert not result.ok
        assert result.broken_seq == 1
        assert "not keyed" in result.reason

    def test_the_next_start_rekeys_it_once_and_records_that(
        self, app: FastAPI, legacy_trail: list[int], restart: Restart
    ) -> None:
        legacy = {r.seq: r.hash for r in audit_records(app)}
        restarted = restart()
        result = verify(restarted)
        assert result.ok, result.reason
        assert result.checked == 5
        records = audit_records(restarted)
        # Re-sealed over the fields they were written with; the new record seals its user_id too.
        assert [r.scheme for r in records] == ["hmac-sha256"] * 4 + ["hmac-sha256-v2"]
        assert all(r.hash != legacy[r.seq] for r in records[:4])
        assert records[-1].action == "audit.chain_rekeyed"
        assert records[-1].details == {"records": 4, "legacy_head_hash": legacy[4]}
        restart()  # nothing left to re-key: no second record
        assert len(audit_records(restarted)) == 5

    def test_a_broken_legacy_chain_is_not_laundered(
        self, app: FastAPI, legacy_trail: list[int], restart: Restart
    ) -> None:
        tamper(app, 2, actor_id="mallory-id")
        restarted = restart()
        assert {r.scheme for r in audit_records(restarted)} == {"sha256"}
        assert len(audit_records(restarted)) == 4

    def test_legacy_records_among_keyed_ones_are_not_rekeyed(self, app: FastAPI, restart: Restart) -> None:
        append(app, ALICE, "user.created", "u-1")
        append(app, ALICE, "user.created", "u-2")
        reseal_unkeyed(app, start=2, scheme="sha256")  # a forgery dressed as a legacy record
        restarted = restart()
        result = verify(restarted)
        assert not result.ok
        assert result.broken_seq == 2

    def test_a_trail_rewritten_as_legacy_is_caught_by_the_published_head(
        self, app: FastAPI, restart: Restart
    ) -> None:
        for n in range(3):
            append(app, ALICE, "user.created", f"u-{n}")
        published = verify(app)
        assert published.ok
        # Someone with database access rewrites record 2 and dresses the whole trail as legacy:
        # the next start re-keys it, so only a head kept outside the database shows the rewrite.
        tamper(app, 2, target_id="u-9")
        reseal_unkeyed(app, scheme="sha256")
        restarted = restart()
        assert verify(restarted).ok
        result = verify(restarted, expect_head=(published.head_seq, published.head_hash))
        assert not result.ok
        assert result.reason == f"record {published.head_seq} no longer has the expected head hash"

    def test_records_name_their_scheme(self, app: FastAPI) -> None:
        append(app, ALICE, "user.created", "u-1")
        with database(app).unit_of_work() as session:
            assert session.scalars(select(AuditRecord.scheme)).all() == ["hmac-sha256-v2"]
