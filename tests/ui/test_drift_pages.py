"""Stored drift reports on the monitoring pages: the deployment page charts each feature's PSI over
the stored windows and the latest report's reference-vs-current histogram, says what to do, lists
the reports (each with its own page), and every chart's CSV holds the numbers drawn; the overview's
drift column reads the latest stored report.

Reports are stored by the service the drift job runs (``compute_drift_report``) over served traffic
logged through the prediction logger."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.core.ids import utcnow
from kiln.monitoring.drift_reports import compute_drift_report
from kiln.monitoring.windows import window_start
from tests.builders.auth import Account, access_token, api, default_project_id
from tests.builders.core import database
from tests.builders.drift import like_training, log_served, serve
from tests.ui.html_tree import Element, chart_data, get_page
from tests.ui.test_monitoring_pages import as_outsider

pytestmark = pytest.mark.usefixtures("logged_in")

PAGE = "/monitoring/deployments/fraud"
STABLE = window_start(utcnow() - timedelta(hours=4), 3_600)
SHIFTED = STABLE + timedelta(hours=1)


def x_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def store_report(app: FastAPI, start: datetime) -> str:
    with database(app).unit_of_work() as session:
        stored = compute_drift_report(
            session,
            kiln_state(app).store,
            project_id=default_project_id(app),
            deployment="fraud",
            seconds=3_600,
            start=start,
        )
        assert stored is not None
        return stored.id


@pytest.fixture
def reports(app: FastAPI, logged_in: Account) -> dict[str, str]:
    """``fraud`` with two stored hourly reports: one hour served like training, the next with
    amounts tripled (amount drifts, age does not)."""
    with api(app, access_token(app, logged_in)) as rest:
        version_id = serve(app, rest)
    log_served(app, version_id, like_training(300, seed=1), start=STABLE)
    shifted = like_training(300, seed=2)
    shifted["amount"] = shifted["amount"] * 3
    log_served(app, version_id, shifted, start=SHIFTED)
    return {"stable": store_report(app, STABLE), "shifted": store_report(app, SHIFTED)}


def charts_of(page: Element) -> dict[str, dict[str, Any]]:
    return {chart["element"]: chart for chart in chart_data(page)}


def csv_rows(client: TestClient, path: str) -> list[dict[str, str]]:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


def cells(rows: list[dict[str, str]], column: str) -> list[float | None]:
    return [float(row[column]) if row[column] else None for row in rows]


class TestDeploymentPageFromStoredReports:
    def test_the_latest_report_says_what_to_do_and_replaces_the_on_request_table(
        self, client: TestClient, reports: dict[str, str]
    ) -> None:
        page = get_page(client, PAGE)
        advice = page.find(id="drift-advice")
        assert advice.attrs["data-report"] == reports["shifted"]
        assert advice.attrs["data-retrain"] == "yes"
        text = advice.text()
        assert "Features moved: amount" in text
        assert "Retraining is recommended" in text
        assert page.find_all("table", id="drift-table") == []  # nothing computed on request

    def test_psi_over_time_with_the_threshold_and_the_drifted_feature_highlighted(
        self, client: TestClient, reports: dict[str, str]
    ) -> None:
        chart = charts_of(get_page(client, PAGE))["chart-drift-scores"]
        series = {item["name"]: item for item in chart["series"]}
        assert {"amount", "age", "PSI threshold"} <= set(series)
        assert chart["series"][0]["name"] == "amount"  # drifted now: drawn first, emphasised
        assert series["amount"]["emphasis"] is True
        assert series["age"]["emphasis"] is False
        assert series["amount"]["x"] == [x_of(STABLE), x_of(SHIFTED)]
        assert series["amount"]["marked"] == [False, True]  # drifted in the second window only
        assert series["age"]["marked"] == [False, False]
        assert series["amount"]["y"][1] > series["PSI threshold"]["y"][1] > series["amount"]["y"][0]
        assert series["PSI threshold"]["y"] == [0.2, 0.2]
        assert series["PSI threshold"]["dash"] is True

    def test_the_drift_scores_csv_holds_the_charted_numbers(
        self, client: TestClient, reports: dict[str, str]
    ) -> None:
        chart = charts_of(get_page(client, PAGE))["chart-drift-scores"]
        rows = csv_rows(client, f"{PAGE}/drift-scores.csv")
        assert [row["window_start"] for row in rows] == [STABLE.isoformat(), SHIFTED.isoformat()]
        assert [row["window_end"] for row in rows] == [
            SHIFTED.isoformat(),
            (SHIFTED + timedelta(hours=1)).isoformat(),
        ]
        for series in chart["series"]:
            assert cells(rows, series["name"]) == pytest.approx(series["y"], rel=1e-6), series["name"]
            if "marked" in series:
                assert [row[f"{series['name']} drifted"] == "true" for row in rows] == series["marked"]

    def test_the_histogram_of_the_most_drifted_feature_then_of_a_chosen_one(
        self, client: TestClient, reports: dict[str, str]
    ) -> None:
        page = get_page(client, PAGE)
        [histogram] = [chart for chart in chart_data(page) if chart.get("type") == "bar"]
        assert histogram["key"] == "amount: reference vs current"
        reference, current = histogram["series"]
        assert (reference["name"], current["name"]) == ("reference", "current")
        assert sum(reference["y"]) == pytest.approx(1.0, abs=1e-5)
        assert current["y"][-1] > 0.6  # tripled amounts pile up past the reference's top decile
        link = page.find("a", id="csv-histogram").attrs["href"]
        rows = csv_rows(client, link)
        assert [row["bin"] for row in rows] == reference["x"]
        assert cells(rows, "reference") == pytest.approx(reference["y"], rel=1e-6)
        assert cells(rows, "current") == pytest.approx(current["y"], rel=1e-6)
        assert sum(int(row["current_count"]) for row in rows) == 300

        chosen = get_page(client, f"{PAGE}?feature=age")
        [age] = [chart for chart in chart_data(chosen) if chart.get("type") == "bar"]
        assert age["key"] == "age: reference vs current"
        current_link = chosen.find("nav", id="histogram-features").find("a", aria_current="page")
        assert current_link.text() == "age"

    def test_the_reports_list_newest_first_links_each_report_page(
        self, client: TestClient, reports: dict[str, str]
    ) -> None:
        page = get_page(client, PAGE)
        rows = [
            row for row in page.find("table", id="drift-reports").find_all("tr") if "data-report" in row.attrs
        ]
        assert [row.attrs["data-report"] for row in rows] == [reports["shifted"], reports["stable"]]
        assert [row.attrs["data-retrain"] for row in rows] == ["yes", "no"]
        assert "50%" in rows[0].text()
        assert "amount" in rows[0].text()

        report = get_page(client, rows[0].find("a").attrs["href"])
        table = report.find("table", id="report-features")
        assert table.find("tr", data_feature="amount").attrs["data-drifted"] == "yes"
        assert table.find("tr", data_feature="age").attrs["data-drifted"] == "no"
        assert "Retraining is recommended" in report.find(id="drift-advice").text()
        assert "Thresholds: defaults" in report.find(id="drift-thresholds").text()  # none stored for it
        drawn = [chart["key"] for chart in chart_data(report)]
        assert {"amount: reference vs current", "age: reference vs current"} <= set(drawn)
        exported = csv_rows(client, report.find("a", id="csv-features").attrs["href"])
        assert {row["feature"]: row["drifted"] for row in exported}["amount"] == "true"

    def test_the_daily_view_without_daily_reports_falls_back_and_still_lists_the_hourly_ones(
        self, client: TestClient, reports: dict[str, str]
    ) -> None:
        page = get_page(client, f"{PAGE}?window=1d")
        assert "No 1d drift report is stored yet" in page.find(id="no-stored-drift").text()
        listed = page.find("section", id="drift-report-list").find_all("tr")
        assert [row.attrs["data-report"] for row in listed if "data-report" in row.attrs] == [
            reports["shifted"],
            reports["stable"],
        ]
        assert client.get(f"{PAGE}/drift-scores.csv?window=1d").status_code == 404

    def test_unknown_reports_and_features_are_404s(self, client: TestClient, reports: dict[str, str]) -> None:
        assert client.get(f"{PAGE}/drift/0190f1de-0000-7000-8000-000000000000").status_code == 404
        missing = client.get(f"{PAGE}/drift/{reports['shifted']}/histogram.csv", params={"feature": "colour"})
        assert missing.status_code == 404

    def test_without_a_stored_report_the_page_says_so_and_computes_drift_now(
        self, app: FastAPI, client: TestClient, logged_in: Account
    ) -> None:
        with api(app, access_token(app, logged_in)) as rest:
            version_id = serve(app, rest)
        log_served(app, version_id, like_training(50, seed=5), start=utcnow() - timedelta(minutes=30))
        page = get_page(client, PAGE)
        assert "No 1h drift report is stored yet" in page.find(id="no-stored-drift").text()
        assert page.find_all("table", id="drift-table")
        assert client.get(f"{PAGE}/drift-scores.csv").status_code == 404


def listed(page: Element) -> list[str]:
    rows = page.find_all("tr")
    return [row.attrs["data-report"] for row in rows if "data-report" in row.attrs]


class TestReportsList:
    def test_every_report_newest_first_filtered_by_window_and_retraining(
        self, client: TestClient, reports: dict[str, str]
    ) -> None:
        link = get_page(client, PAGE).find("a", id="all-drift-reports").attrs["href"]
        assert listed(get_page(client, link)) == [reports["shifted"], reports["stable"]]
        assert listed(get_page(client, f"{link}?retrain=yes")) == [reports["shifted"]]
        daily = get_page(client, f"{link}?window=1d")
        assert listed(daily) == []
        assert "No stored drift report matches" in daily.find(id="no-reports").text()
        assert client.get(f"{link}?window=1m").status_code == 400


class TestOverviewDriftColumn:
    def test_the_drift_column_reads_the_latest_stored_report(
        self, client: TestClient, reports: dict[str, str]
    ) -> None:
        cell = (
            get_page(client, "/monitoring")
            .find("tr", data_deployment="fraud")
            .find(data_live_key="fraud:drift")
        )
        assert cell.text() == "50% of features drifted · retraining recommended"
        assert cell.attrs["data-drift"] == "drifted"
        assert SHIFTED.strftime("%Y-%m-%d %H:%M") in cell.attrs["title"]


class TestScoping:
    def test_a_non_member_gets_404_for_every_stored_drift_route(
        self, app: FastAPI, client: TestClient, reports: dict[str, str]
    ) -> None:
        report = f"{PAGE}/drift/{reports['shifted']}"
        as_outsider(app, client)
        for path in (
            f"{PAGE}/drift",
            f"{PAGE}/drift-scores.csv",
            report,
            f"{report}/histogram.csv?feature=amount",
            f"{report}/features.csv",
        ):
            assert client.get(path).status_code == 404, path
