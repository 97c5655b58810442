"""Experiment pages through HTTP, as a user sees them: the experiment list and the runs table."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from kiln.core.db import Database
from kiln.core.ids import new_id, to_millis, utcnow
from kiln.tracking import batches
from kiln.tracking.models import LatestMetric, Param, Run
from kiln.tracking.schemas import LogBatch, MetricIn
from tests.builders import TEST_ACTOR, make_experiment, make_run
from tests.ui.html_tree import Element, get_page

pytestmark = pytest.mark.usefixtures("logged_in")


def run_names(page: Element) -> list[str]:
    table = page.find("table", id="runs-table")
    return [cell.text() for cell in table.find("tbody").find_all("td", cls="col-name")]


class TestExperimentList:
    def test_home_redirects_to_the_experiment_list(self, client: TestClient) -> None:
        response = client.get("/", follow_redirects=False)
        assert response.status_code in (302, 303, 307)
        assert response.headers["location"] == "/experiments"

    def test_lists_names_descriptions_and_run_counts(self, client: TestClient, db: Database) -> None:
        with db.unit_of_work() as session:
            busy = make_experiment(session, name="fraud-detector", description="card fraud, weekly retrain")
            make_experiment(session, name="empty-one")
            for _ in range(3):
                make_run(session, busy)
            busy_id = busy.id
        page = get_page(client, "/experiments")
        rows = {
            row.find("a").text(): row for row in page.find("table", id="experiments-table").find_all("tr")[1:]
        }
        assert set(rows) == {"fraud-detector", "empty-one"}
        assert rows["fraud-detector"].find("a").attrs["href"] == f"/experiments/{busy_id}"
        assert "card fraud, weekly retrain" in rows["fraud-detector"].text()
        assert rows["fraud-detector"].find("td", data_run_count="").text() == "3"
        assert rows["empty-one"].find("td", data_run_count="").text() == "0"

    def test_no_experiments_explains_how_to_start(self, client: TestClient) -> None:
        page = get_page(client, "/experiments")
        assert "No experiments yet" in page.text()
        assert not page.find_all("table")


class TestRunsTable:
    def test_shows_a_column_per_param_and_metric_with_the_latest_values(
        self, client: TestClient, db: Database
    ) -> None:
        with db.unit_of_work() as session:
            experiment = make_experiment(session)
            run = make_run(session, experiment, name="svm-a", params={"C": "1.0", "kernel": "rbf"})
            batches.log_batch(
                session,
                TEST_ACTOR,
                run.id,
                LogBatch(
                    metrics=[MetricIn(key="accuracy", value=v, step=s) for s, v in enumerate((0.5, 0.93))]
                ),
            )
            make_run(session, experiment, name="svm-b", params={"C": "0.1"}, metrics={"f1": 0.7})
            experiment_id, run_id = experiment.id, run.id
        page = get_page(client, f"/experiments/{experiment_id}")
        headers = {th.attrs["data-column"] for th in page.find_all("th") if "data-column" in th.attrs}
        assert {"param:C", "param:kernel", "metric:accuracy", "metric:f1", "run:status"} <= headers
        row = page.find("tr", data_run_id=run_id)
        assert row.find("a").attrs["href"] == f"/runs/{run_id}"
        cells = [cell.text() for cell in row.find_all("td")]
        assert "0.93" in cells  # the latest accuracy, not the first
        assert "0.5" not in cells
        assert "rbf" in cells
        assert row.find("span", cls="badge").text() == "running"

    def test_sort_order_follows_order_by_and_header_links_flip_it(
        self, client: TestClient, db: Database
    ) -> None:
        with db.unit_of_work() as session:
            experiment = make_experiment(session)
            for name, accuracy in (("mid", 0.8), ("best", 0.95), ("worst", 0.6)):
                make_run(session, experiment, name=name, metrics={"accuracy": accuracy})
            make_run(session, experiment, name="unscored")
            experiment_id = experiment.id
        base = f"/experiments/{experiment_id}"
        descending = get_page(client, f"{base}?order_by=metrics.accuracy+DESC")
        assert run_names(descending) == ["best", "mid", "worst", "unscored"]
        header = descending.find("th", data_column="metric:accuracy")
        assert header.attrs["aria-sort"] == "descending"
        flip = header.find("a").attrs["href"]
        assert "order_by=metrics.accuracy+ASC" in flip
        ascending = get_page(client, flip)
        assert run_names(ascending) == ["worst", "mid", "best", "unscored"]
        assert ascending.find("th", data_column="metric:accuracy").attrs["aria-sort"] == "ascending"

    def test_first_click_on_a_loss_column_sorts_lowest_first(self, client: TestClient, db: Database) -> None:
        with db.unit_of_work() as session:
            experiment = make_experiment(session)
            make_run(session, experiment, name="a", metrics={"val_loss": 0.4, "f1": 0.5})
            experiment_id = experiment.id
        page = get_page(client, f"/experiments/{experiment_id}")
        assert (
            page.find("th", data_column="metric:val_loss")
            .find("a")
            .attrs["href"]
            .endswith("order_by=metrics.val_loss+ASC")
        )
        assert (
            page.find("th", data_column="metric:f1")
            .find("a")
            .attrs["href"]
            .endswith("order_by=metrics.f1+DESC")
        )

    def test_filter_narrows_the_runs_and_keeps_the_sort(self, client: TestClient, db: Database) -> None:
        with db.unit_of_work() as session:
            experiment = make_experiment(session)
            make_run(session, experiment, name="a", params={"C": "1.0"}, metrics={"accuracy": 0.95})
            make_run(session, experiment, name="b", params={"C": "0.1"}, metrics={"accuracy": 0.97})
            make_run(session, experiment, name="c", params={"C": "1.0"}, metrics={"accuracy": 0.85})
            experiment_id = experiment.id
        page = get_page(
            client,
            f"/experiments/{experiment_id}?filter=metrics.accuracy > 0.9 and params.C = '1.0'",
        )
        assert run_names(page) == ["a"]
        assert page.find("input", id="filter").attrs["value"] == "metrics.accuracy > 0.9 and params.C = '1.0'"
        sort_link = page.find("th", data_column="metric:accuracy").find("a").attrs["href"]
        assert "filter=metrics.accuracy" in sort_link

    def test_an_invalid_filter_shows_the_message_with_status_400(
        self, client: TestClient, db: Database
    ) -> None:
        with db.unit_of_work() as session:
            experiment = make_experiment(session)
            make_run(session, experiment, name="kept")
            experiment_id = experiment.id
        page = get_page(client, f"/experiments/{experiment_id}?filter=metrics.accuracy >> 0.9", status=400)
        alert = page.find(role="alert")
        assert "invalid filter" in alert.text()
        assert page.find("input", id="filter").attrs["value"] == "metrics.accuracy >> 0.9"
        assert not page.find_all("table", id="runs-table")

    def test_an_invalid_order_by_is_reported_too(self, client: TestClient, db: Database) -> None:
        with db.unit_of_work() as session:
            experiment_id = make_experiment(session).id
        page = get_page(client, f"/experiments/{experiment_id}?order_by=tags.team", status=400)
        assert "cannot be ordered by a tag" in page.find(role="alert").text()

    def test_pages_through_runs_with_the_cursor(self, client: TestClient, db: Database) -> None:
        start = utcnow()
        with db.unit_of_work() as session:
            experiment = make_experiment(session)
            for index in range(5):
                make_run(
                    session, experiment, name=f"run-{index}", start_time=start + timedelta(seconds=index)
                )
            experiment_id = experiment.id
        first = get_page(client, f"/experiments/{experiment_id}?limit=2")
        assert run_names(first) == ["run-4", "run-3"]
        assert "Showing 1\u20132 of 5 runs" in first.text()
        second = get_page(client, first.find("a", rel="next").attrs["href"])
        assert run_names(second) == ["run-2", "run-1"]
        last = get_page(client, second.find("a", rel="next").attrs["href"])
        assert run_names(last) == ["run-0"]
        assert not last.find_all("a", rel="next")
        back = get_page(client, last.find("a", rel="prev").attrs["href"])
        assert run_names(back) == ["run-2", "run-1"]

    def test_an_experiment_with_ten_thousand_runs_renders_one_page_quickly(
        self, client: TestClient, db: Database
    ) -> None:
        with db.unit_of_work() as session:
            experiment_id = make_experiment(session).id
            now, now_ms = utcnow(), to_millis(utcnow())
            ids = [new_id() for _ in range(10_000)]
            # Bulk rows: building 10,000 runs one by one through the service would take most of a minute.
            session.execute(
                insert(Run),
                [
                    {
                        "id": run_id,
                        "experiment_id": experiment_id,
                        "name": f"run-{i}",
                        "status": "finished",
                        "start_time": now - timedelta(seconds=i),
                        "user": "bulk",
                        "source": "",
                        "artifact_uri": "",
                    }
                    for i, run_id in enumerate(ids)
                ],
            )
            session.execute(
                insert(LatestMetric),
                [
                    {
                        "run_id": run_id,
                        "key": "accuracy",
                        "value": i / 10_000,
                        "step": 0,
                        "timestamp_ms": now_ms,
                    }
                    for i, run_id in enumerate(ids)
                ],
            )
            session.execute(
                insert(Param),
                [{"run_id": run_id, "key": "seed", "value": str(i)} for i, run_id in enumerate(ids)],
            )
        started = time.perf_counter()
        page = get_page(client, f"/experiments/{experiment_id}?order_by=metrics.accuracy+DESC")
        elapsed = time.perf_counter() - started
        assert run_names(page)[:2] == ["run-9999", "run-9998"]
        assert len(run_names(page)) == 50
        assert "of 10,000 runs" in page.text()
        assert elapsed < 5, f"the runs page took {elapsed:.2f}s with 10,000 runs"

    def test_unknown_experiment_is_a_friendly_404_page(self, client: TestClient) -> None:
        page = get_page(client, "/experiments/no-such-id", status=404)
        assert "Not found" in page.find("h1").text()
        assert "experiment 'no-such-id' not found" in page.text()
        assert page.find("a", href="/experiments")
