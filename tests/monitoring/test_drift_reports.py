"""Stored drift reports: computed by a job per deployment and window, listed, charted, announced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.auth.permissions import Role
from kiln.core import events
from kiln.core.ids import utcnow
from kiln.jobs.queue import enqueue
from kiln.jobs.worker import Worker
from kiln.monitoring.drift_reports import compute_drift_report
from kiln.monitoring.drift_tasks import DRIFT_REPORT
from kiln.monitoring.events import DriftDetected
from kiln.monitoring.tasks import TICK
from kiln.monitoring.windows import window_start
from tests.api import API, error_of
from tests.builders.auth import access_token, api, default_project_id, make_account, make_member, make_project
from tests.builders.core import database
from tests.builders.drift import like_training, log_served, serve
from tests.builders.serving import at

HOUR = at("2025-03-01T11:00:00+00:00")
NEXT_HOUR = HOUR + timedelta(hours=1)
REPORTS = f"{API}/monitoring/deployments/fraud/drift-reports"


def compute(client: TestClient, start: str = "2025-03-01T11:00:00Z", window: str = "1h") -> dict[str, Any]:
    answer = client.post(REPORTS, json={"window": window, "start": start})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def shifted(rows: int, seed: int) -> Any:
    served = like_training(rows, seed=seed)
    served["amount"] = served["amount"] * 3  # prices tripled since training; ages did not move
    return served


class TestComputedByTheQueue:
    def test_the_tick_queues_a_report_of_each_closed_hour_and_the_job_stores_it(
        self, app: FastAPI, client: TestClient
    ) -> None:
        hour = window_start(utcnow() - timedelta(hours=3), 3_600)
        log_served(app, serve(app, client), like_training(200, seed=1), start=hour)
        db = database(app)
        with db.unit_of_work() as session:
            enqueue(session, TICK, {"since": (hour - timedelta(minutes=5)).isoformat()})
        Worker(db, kinds=[TICK]).run_pending(limit=1)
        assert Worker(db, kinds=[DRIFT_REPORT]).run_pending() >= 1

        listed = client.get(REPORTS, params={"window": "1h"})
        assert listed.status_code == 200, listed.text
        [report] = listed.json()["items"]
        assert report["start"] == hour.isoformat().replace("+00:00", "Z")
        assert report["window_seconds"] == 3_600
        assert report["rows"] == 200
        assert report["drifted_features"] == []
        assert not report["retrain_recommended"]
        assert "features" not in report  # the list is light: detail is one GET away

    def test_a_job_delivered_twice_stores_one_report(self, app: FastAPI, client: TestClient) -> None:
        log_served(app, serve(app, client), like_training(200, seed=1), start=HOUR)
        db = database(app)
        payload = {"deployment": "fraud", "window_seconds": 3_600, "start": HOUR.isoformat()}
        with db.unit_of_work() as session:
            for _ in range(2):
                enqueue(session, DRIFT_REPORT, payload, project_id=default_project_id(app))
        assert Worker(db, kinds=[DRIFT_REPORT]).run_pending() == 2
        assert len(client.get(REPORTS).json()["items"]) == 1


class TestWhatAReportSays:
    def test_a_shifted_feature_is_named_and_the_unshifted_are_not(
        self, app: FastAPI, client: TestClient
    ) -> None:
        log_served(app, serve(app, client), shifted(400, seed=3), start=HOUR)
        stored = compute(client)
        assert stored["drifted_features"] == ["amount"]
        assert stored["retrain_recommended"]  # one of two inputs: the default 50% share
        by_name = {feature["feature"]: feature for feature in stored["features"]}
        assert by_name["amount"]["drifted"]
        assert by_name["amount"]["method"] == "ks"
        assert by_name["amount"]["ks_p_value"] < 1e-6
        assert not by_name["age"]["drifted"]
        assert by_name["age"]["ks_p_value"] > 0.05
        assert stored["summary"].startswith("1 of 2 features drifted (amount)")
        assert "retraining is recommended" in stored["summary"]

    def test_each_feature_carries_reference_and_current_histograms(
        self, app: FastAPI, client: TestClient
    ) -> None:
        log_served(app, serve(app, client), shifted(400, seed=3), start=HOUR)
        stored = compute(client)
        amount = next(feature for feature in stored["features"] if feature["feature"] == "amount")
        histogram = amount["histogram"]
        assert len(histogram["bins"]) == len(histogram["reference"]) == len(histogram["current"])
        assert len(histogram["edges"]) == len(histogram["bins"]) - 1
        assert sum(histogram["current"]) == 400
        assert sum(histogram["reference"]) == amount["reference_count"]
        # Tripled amounts pile up past the reference's top decile.
        assert histogram["current"][-1] > 0.6 * 400
        answers = next(feature for feature in stored["features"] if feature["feature"] == "prediction")
        assert sorted(answers["histogram"]["bins"]) == ["0", "1"]  # the model's classes, most frequent first
        assert sum(answers["histogram"]["current"]) == 400

    def test_recomputing_a_window_gives_the_same_report(self, app: FastAPI, client: TestClient) -> None:
        log_served(app, serve(app, client), shifted(400, seed=4), start=HOUR)
        first, second = compute(client), compute(client)
        assert second["id"] == first["id"]
        for key in ("features", "drifted_features", "drifted_share", "summary", "rows", "thresholds"):
            assert second[key] == first[key], key
        assert len(client.get(REPORTS).json()["items"]) == 1

    def test_a_window_without_traffic_stores_nothing(self, app: FastAPI, client: TestClient) -> None:
        serve(app, client)
        answer = client.post(REPORTS, json={"window": "1h", "start": "2025-03-01T11:00:00Z"})
        assert answer.status_code == 200
        assert answer.json() is None
        assert client.get(REPORTS).json()["items"] == []

    def test_one_feature_over_time_for_a_chart(self, app: FastAPI, client: TestClient) -> None:
        version_id = serve(app, client)
        log_served(app, version_id, like_training(300, seed=5), start=HOUR)
        log_served(app, version_id, shifted(300, seed=6), start=NEXT_HOUR)
        compute(client)
        compute(client, "2025-03-01T12:00:00Z")
        answer = client.get(
            f"{API}/monitoring/deployments/fraud/drift-features/amount",
            params={"from": "2025-03-01T00:00:00Z", "to": "2025-03-02T00:00:00Z"},
        )
        assert answer.status_code == 200, answer.text
        series = answer.json()
        assert series["feature"] == "amount"
        assert [point["start"] for point in series["points"]] == [
            "2025-03-01T11:00:00Z",
            "2025-03-01T12:00:00Z",
        ]
        assert [point["drifted"] for point in series["points"]] == [False, True]
        assert series["points"][1]["psi"] > series["points"][0]["psi"]

    def test_reports_page_newest_first_and_filter(self, app: FastAPI, client: TestClient) -> None:
        version_id = serve(app, client)
        log_served(app, version_id, like_training(300, seed=5), start=HOUR)
        log_served(app, version_id, shifted(300, seed=6), start=NEXT_HOUR)
        compute(client)
        compute(client, "2025-03-01T12:00:00Z")
        first = client.get(REPORTS, params={"limit": 1}).json()
        assert first["items"][0]["start"] == "2025-03-01T12:00:00Z"
        rest = client.get(REPORTS, params={"limit": 1, "cursor": first["next_cursor"]}).json()
        assert rest["items"][0]["start"] == "2025-03-01T11:00:00Z"
        assert rest["next_cursor"] is None
        drifted = client.get(REPORTS, params={"retrain_recommended": "true"}).json()["items"]
        assert [report["start"] for report in drifted] == ["2025-03-01T12:00:00Z"]
        one = client.get(f"{REPORTS}/{drifted[0]['id']}")
        assert one.status_code == 200
        assert one.json()["drifted_features"] == ["amount"]


def fail_after_computing(db: Any, store: Any, window: dict[str, Any], heard: list[DriftDetected]) -> None:
    with db.unit_of_work() as session:
        compute_drift_report(session, store, **window)
        assert heard == []  # stored but not committed: nobody hears of it yet
        raise RuntimeError("the job failed after computing")


class TestAnnouncedAndExported:
    def test_drift_detected_is_announced_after_commit_only_and_once(
        self, app: FastAPI, client: TestClient
    ) -> None:
        log_served(app, serve(app, client), shifted(400, seed=7), start=HOUR)
        heard: list[DriftDetected] = []
        events.subscribe(DriftDetected, heard.append)
        db, store = database(app), kiln_state(app).store
        project = default_project_id(app)
        window = {"project_id": project, "deployment": "fraud", "seconds": 3_600, "start": HOUR}
        try:
            with pytest.raises(RuntimeError, match="failed after computing"):
                fail_after_computing(db, store, window, heard)
            assert heard == []  # rolled back: never announced
            with db.unit_of_work() as session:
                report = compute_drift_report(session, store, **window)
                assert report is not None
                report_id = report.id
                assert heard == []
            [event] = heard
            assert event.report_id == report_id
            assert event.deployment == "fraud"
            assert event.drifted_features == ("amount",)
            assert event.start == HOUR
            with db.unit_of_work() as session:
                compute_drift_report(session, store, **window)
            assert len(heard) == 1  # recomputing a drifted window announces it no second time
        finally:
            events.unsubscribe(DriftDetected, heard.append)

    def test_the_latest_scores_are_prometheus_gauges(self, app: FastAPI, client: TestClient) -> None:
        log_served(
            app,
            serve(app, client, name="fraud-gauge"),
            shifted(400, seed=8),
            start=HOUR,
            deployment="fraud-gauge",
        )
        stored = client.post(
            f"{API}/monitoring/deployments/fraud-gauge/drift-reports",
            json={"window": "1h", "start": "2025-03-01T11:00:00Z"},
        ).json()
        text = client.get("/metrics").text
        assert 'kiln_deployment_drift_share{deployment="fraud-gauge"} 0.5' in text
        assert 'kiln_deployment_drift_retrain_recommended{deployment="fraud-gauge"} 1.0' in text
        psi = next(f["psi"] for f in stored["features"] if f["feature"] == "amount")
        assert (
            f'kiln_deployment_feature_drift_psi{{deployment="fraud-gauge",feature="amount"}} {psi!r}' in text
        )


class TestAccess:
    def test_a_non_member_is_told_the_deployment_does_not_exist(
        self, app: FastAPI, client: TestClient
    ) -> None:
        log_served(app, serve(app, client), like_training(100, seed=1), start=HOUR)
        report = compute(client)
        outsider = make_account(app, role=Role.ml_engineer)
        with database(app).unit_of_work() as session:
            make_project(session, members={outsider.id: Role.ml_engineer.value})
        other = api(app, access_token(app, outsider))
        for path in (
            REPORTS,
            f"{REPORTS}/{report['id']}",
            f"{API}/monitoring/deployments/fraud/drift-features/age",
        ):
            answer = other.get(path)
            assert answer.status_code == 404, path
            assert "deployment 'fraud' not found" in error_of(answer)["message"]
        assert other.post(REPORTS, json={"window": "1h", "start": "2025-03-01T11:00:00Z"}).status_code == 404

    def test_a_viewer_reads_reports_but_computes_none(self, app: FastAPI, client: TestClient) -> None:
        serve(app, client)
        viewer = api(app, access_token(app, make_member(app, Role.viewer)))
        assert viewer.get(REPORTS).status_code == 200
        assert viewer.post(REPORTS, json={"window": "1h", "start": "2025-03-01T11:00:00Z"}).status_code == 403

    def test_mistakes_are_answered_with_what_to_fix(self, app: FastAPI, client: TestClient) -> None:
        serve(app, client)
        off_grid = client.post(REPORTS, json={"window": "1h", "start": "2025-03-01T11:30:00Z"})
        assert off_grid.status_code == 400, off_grid.text
        assert "starts on a multiple of 3600 s" in error_of(off_grid)["message"]
        minute = client.post(REPORTS, json={"window": "1m", "start": "2025-03-01T11:00:00Z"})
        assert minute.status_code == 422
        naive = client.post(REPORTS, json={"window": "1h", "start": "2025-03-01T11:00:00"})
        assert naive.status_code == 422
        assert "UTC offset" in naive.text
        unknown = client.get(f"{REPORTS}/0190a000-0000-7000-8000-000000000000")
        assert unknown.status_code == 404
        assert client.get(REPORTS, params={"cursor": "garbage"}).status_code == 400
