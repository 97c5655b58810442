"""The prediction log's writer: appends never wait, every kept record lands exactly once."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from kiln.app import kiln_state
from kiln.auth.permissions import Role
from kiln.core.db import Database
from kiln.serving.models import Prediction
from kiln.serving.prediction_log import PredictionLogger
from kiln.serving.prediction_record import JsonText, PredictionRecord
from kiln.serving.prediction_rows import COLUMNS, statements
from kiln.serving.settings import PredictionLogSettings
from tests.api import API
from tests.auth.apps import BuildApp
from tests.builders.auth import default_project_id, make_member, open_session
from tests.builders.core import database
from tests.builders.deployments import ROWS, serve_model
from tests.builders.serving import prediction
from tests.live_server import running


@pytest.fixture
def db(app: FastAPI) -> Database:
    return database(app)


@pytest.fixture
def project_id(app: FastAPI) -> str:
    return default_project_id(app)


def logged_ids(db: Database) -> list[str]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(Prediction.request_id)))


def logged_statuses(db: Database) -> Counter[str]:
    with db.unit_of_work() as session:
        rows = session.execute(select(Prediction.status, func.count()).group_by(Prediction.status))
        return Counter(dict(rows.all()))


def append_from_threads(logger: PredictionLogger, project_id: str, threads: int, each: int) -> list[str]:
    sent: list[list[str]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads)

    def work(index: int) -> None:
        start.wait()
        for _ in range(each):
            record = prediction(project_id)
            assert logger.append(record)
            sent[index].append(record.request_id)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [request_id for ids in sent for request_id in ids]


class TestEveryRecordLandsOnce:
    def test_many_threads_appending_while_the_flusher_runs(self, db: Database, project_id: str) -> None:
        settings = PredictionLogSettings(flush_interval_ms=5, batch_size=100)
        logger = PredictionLogger(db, settings)
        logger.start()
        sent = append_from_threads(logger, project_id, threads=8, each=500)
        deadline = time.monotonic() + 30
        while logger.written < len(sent) and time.monotonic() < deadline:
            time.sleep(0.01)
        # Written by the flusher, not by close: it ran while the threads appended.
        assert logger.written == len(sent) == 4000
        logger.close()
        stored = logged_ids(db)
        assert len(stored) == len(set(stored)) == 4000
        assert set(stored) == set(sent)

    def test_close_under_load_drains_everything(self, db: Database, project_id: str) -> None:
        # A long interval and a large batch: most records are still queued when close() is called.
        logger = PredictionLogger(db, PredictionLogSettings(flush_interval_ms=10_000, batch_size=5000))
        logger.start()
        sent = append_from_threads(logger, project_id, threads=4, each=1500)
        assert logger.pending > 0
        logger.close()
        assert logger.pending == 0
        assert sorted(logged_ids(db)) == sorted(sent)

    def test_close_while_threads_still_append_loses_nothing(self, db: Database, project_id: str) -> None:
        logger = PredictionLogger(db, PredictionLogSettings(flush_interval_ms=20, batch_size=200))
        logger.start()
        sent: list[str] = []

        def load() -> None:
            sent.extend(append_from_threads(logger, project_id, threads=3, each=1000))

        appending = threading.Thread(target=load)
        appending.start()
        time.sleep(0.05)
        logger.close()  # in the middle of the load
        appending.join()
        # What arrived after the flusher stopped waits in the queue; the next close writes it.
        logger.close()
        assert sorted(logged_ids(db)) == sorted(sent)
        assert len(sent) == 3000

    def test_stopping_the_app_writes_what_its_serving_path_appended(self, app: FastAPI) -> None:
        project_id = default_project_id(app)
        with TestClient(app):
            logger = kiln_state(app).prediction_logger
            sent = append_from_threads(logger, project_id, threads=4, each=250)
        # The lifespan drained the queue before the app stopped.
        assert sorted(logged_ids(database(app))) == sorted(sent)

    def test_a_server_stopped_under_load_writes_every_prediction_it_answered(
        self, build_app: BuildApp
    ) -> None:
        # Nothing is flushed on its own here (a minute's interval, a huge batch): at the stop, every
        # prediction answered so far is still queued, and requests are still coming.
        app = build_app(prediction_log={"flush_interval_ms": 60_000, "batch_size": 100_000})
        name = serve_model(app, open_session(app, make_member(app, Role.admin)).access_token, public=True)
        logger = kiln_state(app).prediction_logger
        answered: list[str] = []
        enough = threading.Event()

        def load(url: str) -> None:
            with httpx.Client(base_url=url, timeout=10) as caller:
                for _ in range(400):
                    try:
                        response = caller.post(f"{API}/deployments/{name}/predict", json={"inputs": ROWS})
                    except httpx.TransportError:
                        return  # the server stopped taking requests
                    if response.status_code != 200:
                        return
                    answered.append(response.json()["request_id"])
                    if len(answered) >= 100:
                        enough.set()

        with running(app, lifespan="on") as (url, server):
            callers = [threading.Thread(target=load, args=(url,)) for _ in range(4)]
            for caller in callers:
                caller.start()
            assert enough.wait(60)
            queued = logger.pending
            server.should_exit = True  # what SIGTERM does: finish what is in flight, run the shutdown
        for caller in callers:
            caller.join()

        assert queued > 0
        assert logger.pending == 0
        stored = logged_ids(database(app))
        assert set(answered) <= set(stored)
        assert len(stored) == len(set(stored)) == logger.written

    def test_a_full_batch_is_written_without_waiting_for_the_interval(
        self, db: Database, project_id: str
    ) -> None:
        logger = PredictionLogger(db, PredictionLogSettings(flush_interval_ms=60_000, batch_size=50))
        logger.start()
        try:
            for _ in range(50):
                logger.append(prediction(project_id))
            deadline = time.monotonic() + 10
            while logger.written < 50 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert logger.written == 50
        finally:
            logger.close()

    def test_a_duplicate_request_id_costs_only_itself(self, db: Database, project_id: str) -> None:
        logger = PredictionLogger(db)
        twice = prediction(project_id)
        others = [prediction(project_id) for _ in range(5)]
        for record in [twice, *others, twice]:
            logger.append(record)
        logger.close()
        assert sorted(logged_ids(db)) == sorted([twice.request_id, *(r.request_id for r in others)])
        assert logger.failed == 1

    def test_records_spanning_several_statements_each_keep_their_own_values(
        self, db: Database, project_id: str
    ) -> None:
        # 300 records are written 128 to a statement: every row must land whole and in its own columns,
        # and a duplicate in the third statement must cost only itself.
        records = [prediction(project_id, latency_ms=float(i), caller=f"caller-{i}") for i in range(300)]
        logger = PredictionLogger(db)
        for record in [*records, records[5]]:
            logger.append(record)
        logger.close()
        assert logger.failed == 1
        with db.unit_of_work() as session:
            stored = {
                row.request_id: (row.latency_ms, row.caller) for row in session.scalars(select(Prediction))
            }
        assert stored == {r.request_id: (float(i), f"caller-{i}") for i, r in enumerate(records)}


class TestSampling:
    def test_keeps_the_fraction_asked_for_and_every_failure(self, db: Database, project_id: str) -> None:
        logger = PredictionLogger(db, PredictionLogSettings(sample=0.25))
        kept = Counter()
        for status, count in (("ok", 4000), ("invalid", 100), ("error", 100)):
            for _ in range(count):
                if logger.append(
                    prediction(project_id, status=status, error=None if status == "ok" else "x")
                ):
                    kept[status] += 1
        logger.close()
        stored = logged_statuses(db)
        assert stored == kept
        # 4,000 draws at p = 0.25: mean 1,000, standard deviation ~27; 6 deviations is a safe margin.
        assert abs(stored["ok"] - 1000) < 6 * math.sqrt(4000 * 0.25 * 0.75)
        assert stored["invalid"] == 100
        assert stored["error"] == 100

    def test_sample_zero_keeps_only_failures(self, db: Database, project_id: str) -> None:
        logger = PredictionLogger(db, PredictionLogSettings(sample=0.0))
        assert not logger.append(prediction(project_id))
        assert logger.append(prediction(project_id, status="error", error="boom"))
        logger.close()
        assert logged_statuses(db) == {"error": 1}


class TestFullQueue:
    def test_drops_without_blocking_and_counts_the_drops(self, db: Database, project_id: str) -> None:
        registry = CollectorRegistry()
        # Not started: nothing drains the queue while it fills.
        logger = PredictionLogger(db, PredictionLogSettings(queue_size=10), registry=registry)
        records = [prediction(project_id) for _ in range(25)]
        started = time.perf_counter()
        accepted = [logger.append(record) for record in records]
        elapsed = time.perf_counter() - started
        assert accepted == [True] * 10 + [False] * 15
        assert elapsed < 0.05, f"25 appends to a full queue took {elapsed * 1000:.1f} ms"
        assert logger.dropped == 15
        logger.close()
        assert sorted(logged_ids(db)) == sorted(r.request_id for r in records[:10])
        assert registry.get_sample_value("kiln_prediction_log_dropped_total") == 15
        assert registry.get_sample_value("kiln_prediction_log_written_total") == 10

    def test_a_backlog_of_large_batches_is_bounded_by_the_bytes_it_holds(
        self, db: Database, project_id: str
    ) -> None:
        """Batches of 0.4 MB each: the queue holds what fits in 1 MB, drops the rest, and once the
        database has caught up takes them again."""
        logger = PredictionLogger(db, PredictionLogSettings(queue_bytes=2**20))
        batch = JsonText("[" + ",".join(['{"amount":120.5,"country":"FR"}'] * 13_000) + "]")
        assert len(batch) > 400_000
        records = [prediction(project_id, inputs=batch) for _ in range(4)]
        assert [logger.append(record) for record in records] == [True, True, False, False]
        assert logger.dropped == 2
        logger.flush()
        assert logger.append(records[2])
        logger.close()
        assert sorted(logged_ids(db)) == sorted(r.request_id for r in records[:3])

    def test_the_app_exposes_the_counters_at_metrics(self, app: FastAPI) -> None:
        project_id = default_project_id(app)
        with TestClient(app) as client:
            kiln_state(app).prediction_logger.append(prediction(project_id))
            kiln_state(app).prediction_logger.flush()
            metrics = client.get("/metrics").text
        assert "kiln_prediction_log_written_total 1.0" in metrics
        assert "kiln_prediction_log_dropped_total 0.0" in metrics


class TestStatements:
    """A flush writes several rows to a statement, bounded by count and by their text (the driver
    copies every bound value, so 128 logged batches in one statement would take 100 MB at once)."""

    @staticmethod
    def _row(text: int) -> tuple[str | None, ...]:
        row: list[str | None] = [None] * len(COLUMNS)
        row[COLUMNS.index("inputs")] = "x" * text
        return tuple(row)

    def test_small_rows_go_128_to_a_statement_in_order(self) -> None:
        rows = [self._row(100) for _ in range(300)]
        groups = list(statements(rows))
        assert [len(group) for group in groups] == [128, 128, 44]
        assert [row for group in groups for row in group] == rows

    def test_large_rows_are_bounded_by_their_text(self) -> None:
        rows = [self._row(400_000) for _ in range(5)] + [self._row(3 * 2**20)]
        groups = list(statements(rows))
        # Two 0.4 MB rows fit in 1 MiB, a third does not; a row larger than the bound goes alone.
        assert [len(group) for group in groups] == [2, 2, 1, 1]
        assert all(sum(len(row[7] or "") for row in group) <= 2**20 for group in groups[:-1])

    def test_logged_batches_of_half_a_megabyte_are_all_written_whole(
        self, db: Database, project_id: str
    ) -> None:
        batch = JsonText("[" + ",".join(['{"amount":120.5,"country":"FR"}'] * 16_000) + "]")
        records = [prediction(project_id, inputs=batch) for _ in range(5)]
        logger = PredictionLogger(db, PredictionLogSettings(queue_bytes=2**30))
        for record in records:
            assert logger.append(record)
        logger.close()
        with db.unit_of_work() as session:
            stored = session.execute(select(Prediction.request_id, Prediction.inputs)).all()
        assert sorted(request_id for request_id, _ in stored) == sorted(r.request_id for r in records)
        assert all(len(inputs) == 16_000 for _, inputs in stored)


class TestWhatIsStored:
    def test_every_field_round_trips(self, db: Database, project_id: str) -> None:
        when = datetime(2025, 3, 1, 12, 30, 15, 250_000, tzinfo=UTC)
        record = PredictionRecord(
            request_id="0190a000-0000-7000-8000-00000000abcd",
            deployment="fraud",
            project_id=project_id,
            model_name="fraud_detector",
            status="error",
            latency_ms=12.5,
            inputs={"amount": [1.0, float("nan")]},
            outputs=None,
            model_version_id="0190a000-0000-7000-8000-000000000003",
            model_version_number=3,
            deployment_id="0190a000-0000-7000-8000-0000000000d1",
            error="ValueError: boom",
            caller="ada@example.com (key ci)",
            caller_user_id="0190a000-0000-7000-8000-0000000000u1",
            created_at=when,
        )
        logger = PredictionLogger(db)
        logger.append(record)
        logger.close()
        with db.unit_of_work() as session:
            stored = session.scalars(select(Prediction)).one()
            # NaN inputs are kept, as the API shows them (PostgreSQL's jsonb has no NaN).
            assert stored.inputs == {"amount": [1.0, "NaN"]}
            assert stored.outputs is None
            assert stored.created_at == when
            assert (stored.status, stored.error, stored.latency_ms) == ("error", "ValueError: boom", 12.5)
            assert (stored.deployment_id, stored.caller_user_id) == (
                record.deployment_id,
                record.caller_user_id,
            )
            assert stored.model_version_number == 3

    def test_numpy_outputs_are_stored_as_plain_json(self, db: Database, project_id: str) -> None:
        numpy = pytest.importorskip("numpy")
        logger = PredictionLogger(db)
        logger.append(prediction(project_id, outputs={"probabilities": numpy.array([[0.25, 0.75]])}))
        logger.close()
        with db.unit_of_work() as session:
            assert session.scalars(select(Prediction.outputs)).one() == {"probabilities": [[0.25, 0.75]]}

    def test_the_time_appended_is_used_when_none_is_given(self, db: Database, project_id: str) -> None:
        before = datetime.now(UTC)
        logger = PredictionLogger(db)
        logger.append(prediction(project_id))
        logger.close()
        with db.unit_of_work() as session:
            created = session.scalars(select(Prediction.created_at)).one()
        assert before <= created <= datetime.now(UTC)
