"""Appending rows: a batch is staged whole or refused whole, parallel appenders lose and duplicate
nothing, and the ingestion policy (every N rows, every T minutes, on request) cuts the versions."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from kiln.app import KilnSettings, bind_data_runtime
from kiln.core import events
from kiln.core.ids import utcnow
from kiln.data.events import DatasetVersionCreated
from kiln.data.ingestion_timer import COMMIT_PENDING
from kiln.data.models import PendingBatch
from kiln.jobs.models import Job
from kiln.jobs.worker import Worker
from tests.api import API
from tests.auth.apps import BuildApp, build_app
from tests.builders.core import database
from tests.builders.datasets import (
    append,
    append_frame,
    batch,
    commit,
    create_telemetry,
    csv_bytes,
    records_of,
)
from tests.builders.telemetry import START

__all__ = ["build_app"]


def pending(client: TestClient, name: str = "telemetry") -> dict[str, Any]:
    answer = client.get(f"{API}/datasets/{name}/pending")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def clean(rows: int, part: int) -> pd.DataFrame:
    """Clean readings of their own week (``part``), so no two parts share a key (link_id, ts)."""
    return batch(rows, seed=part, start=START + timedelta(days=7 * part))


class TestWholeOrNothing:
    def test_an_accepted_append_waits_for_the_commit(self, client: TestClient) -> None:
        create_telemetry(client)
        appended = append_frame(client, clean(30, 1))

        assert (appended["rows"], appended["pending_rows"], appended["version"]) == (30, 30, None)
        assert pending(client)["pending_rows"] == 30
        assert client.get(f"{API}/datasets/telemetry").json()["latest_version"] is None

        made = commit(client)
        assert made.status_code == 201, made.text
        assert (made.json()["number"], made.json()["rows"], made.json()["source"]) == (1, 30, "ingestion")
        assert pending(client)["pending_rows"] == 0

    def test_an_undeclared_column_refuses_the_batch_naming_it_and_its_row(self, client: TestClient) -> None:
        create_telemetry(client)
        records = records_of(clean(5, 1))
        records[3]["temperature"] = 21.5

        answer = append(client, records)

        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert "`temperature`" in error["message"]
        assert "record 3" in error["message"]
        assert error["details"] == {"column": "temperature", "row": 3}
        assert pending(client) | {"ingestion": None} == {
            "dataset": "telemetry",
            "pending_rows": 0,
            "batches": 0,
            "oldest": None,
            "ingestion": None,
        }

    def test_a_missing_column_or_one_of_the_wrong_type_refuses_the_batch(self, client: TestClient) -> None:
        create_telemetry(client)
        without_site = [{k: v for k, v in row.items() if k != "site"} for row in records_of(clean(4, 1))]
        texts = records_of(clean(4, 2))
        for row in texts:
            row["latency_ms"] = "fast"

        for records, column in ((without_site, "site"), (texts, "latency_ms")):
            answer = append(client, records)
            assert answer.status_code == 422, answer.text
            assert column in answer.json()["error"]["message"]
        assert pending(client)["batches"] == 0

    @pytest.mark.parametrize(
        ("body", "fragment"),
        [
            ({"records": []}, "records"),
            ({}, "records"),
            ({"records": [{"ts": {"nested": 1}}]}, "records"),
            ({"records": "not a list"}, "records"),
        ],
    )
    def test_malformed_bodies_are_a_4xx(self, client: TestClient, body: Any, fragment: str) -> None:
        create_telemetry(client)
        answer = client.post(f"{API}/datasets/telemetry/records", json=body)
        assert answer.status_code == 422, answer.text
        assert fragment in answer.text
        assert pending(client)["batches"] == 0

    def test_not_json_and_unknown_datasets_are_a_4xx(self, client: TestClient) -> None:
        create_telemetry(client)
        garbage = client.post(
            f"{API}/datasets/telemetry/records",
            content=b"ts,site\n1,2",
            headers={"content-type": "application/json"},
        )
        assert garbage.status_code in (400, 422), garbage.text
        missing = append(client, records_of(clean(2, 1)), name="nope")
        assert missing.status_code == 404, missing.text
        assert commit(client, "nope").status_code == 404

    def test_a_file_is_one_append(self, client: TestClient) -> None:
        create_telemetry(client)
        answer = client.post(
            f"{API}/datasets/telemetry/records/file", files={"file": ("more.csv", csv_bytes(clean(12, 1)))}
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["rows"] == 12
        empty = client.post(f"{API}/datasets/telemetry/records/file", files={"file": ("e.csv", b"")})
        assert empty.status_code in (400, 415, 422), empty.text
        assert pending(client)["pending_rows"] == 12

    def test_commit_with_nothing_pending_is_a_conflict(self, client: TestClient) -> None:
        create_telemetry(client)
        answer = commit(client)
        assert answer.status_code == 409, answer.text
        assert "append rows first" in answer.json()["error"]["message"]


class TestVersionsOfAppends:
    def test_the_next_version_holds_the_previous_rows_and_the_new_ones(self, client: TestClient) -> None:
        create_telemetry(client)
        append_frame(client, clean(20, 1))
        assert commit(client).json()["rows"] == 20
        append_frame(client, clean(15, 2))
        second = commit(client).json()

        assert (second["number"], second["parent_number"], second["rows"]) == (2, 1, 35)
        assert second["changes"]["rows_added"] == 15
        assert second["changes"]["rows_removed"] == 0

    def test_a_new_version_emits_its_event(self, client: TestClient) -> None:
        create_telemetry(client)
        seen: list[DatasetVersionCreated] = []
        events.subscribe(DatasetVersionCreated, seen.append)
        try:
            append_frame(client, clean(10, 1))
            commit(client)
        finally:
            events.unsubscribe(DatasetVersionCreated, seen.append)
        assert [(event.dataset_name, event.number, event.rows) for event in seen] == [("telemetry", 1, 10)]


class TestPolicies:
    def test_every_n_rows_cuts_a_version_in_the_append_that_reaches_n(self, client: TestClient) -> None:
        create_telemetry(client, ingestion={"every_rows": 25})
        first = append_frame(client, clean(10, 1))
        second = append_frame(client, clean(10, 2))
        third = append_frame(client, clean(10, 3))

        assert [first["version"], second["version"]] == [None, None]
        assert (third["version"]["number"], third["version"]["rows"], third["pending_rows"]) == (1, 30, 0)
        assert client.get(f"{API}/datasets/telemetry").json()["pending_rows"] == 0

    def test_the_policy_can_change_and_is_validated(self, client: TestClient) -> None:
        create_telemetry(client)
        changed = client.patch(f"{API}/datasets/telemetry", json={"ingestion": {"every_rows": 5}})
        assert changed.status_code == 200, changed.text
        assert changed.json()["ingestion"] == {"every_rows": 5, "every_minutes": None}
        for bad in ({"every_rows": 0}, {"every_minutes": -1}, {"policy": "sometimes"}):
            answer = client.patch(f"{API}/datasets/telemetry", json={"ingestion": bad})
            assert answer.status_code == 422, answer.text

    def test_every_t_minutes_is_a_job_that_commits_once_due(self, app: FastAPI, client: TestClient) -> None:
        create_telemetry(client, ingestion={"every_minutes": 30})
        append_frame(client, clean(10, 1))
        append_frame(client, clean(5, 2))
        db = database(app)
        with db.unit_of_work() as session:
            [job] = session.scalars(select(Job).where(Job.kind == COMMIT_PENDING))
            due = job.run_after
        # One timer for the rows that started pending, due T minutes later.
        assert abs((due - (utcnow() + timedelta(minutes=30))).total_seconds()) < 120
        assert Worker(db, kinds=[COMMIT_PENDING]).run_pending() == 0  # not due: nothing runs

        # Half an hour passes (the rows and their timer are moved back, not waited for).
        with db.unit_of_work() as session:
            earlier = utcnow() - timedelta(minutes=31)
            session.execute(update(PendingBatch).values(created_at=earlier))
            session.execute(update(Job).where(Job.kind == COMMIT_PENDING).values(run_after=earlier))
        assert Worker(db, kinds=[COMMIT_PENDING]).run_pending() == 1

        latest = client.get(f"{API}/datasets/telemetry/versions/latest")
        assert latest.status_code == 200, latest.text
        assert (latest.json()["number"], latest.json()["rows"]) == (1, 15)
        assert pending(client)["pending_rows"] == 0

    def test_a_timer_finding_younger_rows_waits_for_them(self, app: FastAPI, client: TestClient) -> None:
        create_telemetry(client, ingestion={"every_minutes": 30})
        append_frame(client, clean(10, 1))
        db = database(app)
        with db.unit_of_work() as session:
            session.execute(update(Job).where(Job.kind == COMMIT_PENDING).values(run_after=utcnow()))
        assert Worker(db, kinds=[COMMIT_PENDING]).run_pending() == 1
        # Not due yet: no version, and the timer is queued again for the rows' due time.
        assert client.get(f"{API}/datasets/telemetry").json()["latest_version"] is None
        with db.unit_of_work() as session:
            waiting = list(
                session.scalars(select(Job).where(Job.kind == COMMIT_PENDING, Job.state == "queued"))
            )
        assert len(waiting) == 1


class TestParallelAppenders:
    APPENDERS = 8
    BATCHES = 4  # per appender
    ROWS = 25  # per batch

    def test_eight_appenders_lose_and_duplicate_nothing(self, app: FastAPI, admin_token: str) -> None:
        """8 threads append at once (each with its own client); the policy cuts versions every 100
        rows as they go, and the last version holds exactly every row, each once."""
        headers = {"Authorization": f"Bearer {admin_token}"}
        total = self.APPENDERS * self.BATCHES * self.ROWS
        with TestClient(app, headers=headers) as setup:
            create_telemetry(setup, ingestion={"every_rows": 100})
        parts = [
            records_of(clean(self.ROWS, appender * self.BATCHES + number))
            for appender in range(self.APPENDERS)
            for number in range(self.BATCHES)
        ]

        def appender(which: int) -> list[int]:
            statuses = []
            with TestClient(app, headers=headers) as own:
                for number in range(self.BATCHES):
                    answer = append(own, parts[which * self.BATCHES + number])
                    statuses.append(answer.status_code)
            return statuses

        with ThreadPoolExecutor(self.APPENDERS) as pool:
            statuses = [code for codes in pool.map(appender, range(self.APPENDERS)) for code in codes]

        assert statuses == [201] * (self.APPENDERS * self.BATCHES)
        with TestClient(app, headers=headers) as check:
            latest = check.get(f"{API}/datasets/telemetry/versions/latest").json()
            assert latest["rows"] == total
            assert latest["quarantine"]["rows"] == 0
            assert pending(check)["pending_rows"] == 0
            stored = pd.read_parquet(
                io.BytesIO(check.get(f"{API}/datasets/telemetry/versions/latest/download").content)
            )
        sent = {(row["link_id"], row["ts"]) for part in parts for row in part}
        kept = {(link, ts.isoformat()) for link, ts in zip(stored["link_id"], stored["ts"], strict=True)}
        assert len(stored) == total
        assert kept == sent


def test_a_worker_process_commits_with_its_own_store_and_mailer(
    app: FastAPI, client: TestClient, settings: KilnSettings
) -> None:
    """``kiln worker`` builds no app: it binds the data jobs' store and mailer from the settings."""
    create_telemetry(client, ingestion={"every_minutes": 5})
    append_frame(client, clean(8, 1))
    bind_data_runtime(settings)  # what `kiln worker` does before it starts
    db = database(app)
    with db.unit_of_work() as session:
        earlier = utcnow() - timedelta(minutes=6)
        session.execute(update(PendingBatch).values(created_at=earlier))
        session.execute(update(Job).where(Job.kind == COMMIT_PENDING).values(run_after=earlier))
    assert Worker(db, kinds=[COMMIT_PENDING]).run_pending() == 1
    download = client.get(f"{API}/datasets/telemetry/versions/latest/download")
    assert download.status_code == 200, download.text
    assert len(pd.read_parquet(io.BytesIO(download.content))) == 8


def test_an_append_over_the_json_limit_is_413_and_stages_nothing(
    build_app: BuildApp, client: TestClient, admin_token: str
) -> None:
    create_telemetry(client)
    small = build_app(http={"max_json_bytes": 2_000})
    with TestClient(small, headers={"Authorization": f"Bearer {admin_token}"}) as limited:
        answer = append(limited, records_of(clean(50, 1)))
        assert answer.status_code == 413, answer.text
        assert pending(limited)["pending_rows"] == 0
