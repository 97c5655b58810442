"""Retraining triggers: detected drift, or an alert rule firing, starts the deployment's pipeline run.

The drift report (or the alert evaluation) commits, ``DriftDetected`` (``AlertFired``) is heard, one
``monitoring.retrain`` job is queued; a worker runs it, which queues the run, and runs that too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.core.ids import utcnow
from kiln.jobs.queue import enqueue
from kiln.jobs.worker import Worker
from kiln.monitoring.alert_evaluation import evaluate_alerts
from kiln.monitoring.drift_tasks import DRIFT_REPORT
from kiln.monitoring.retraining_fire import RETRAIN_JOB
from kiln.monitoring.windows import window_start
from tests.api import API, error_of
from tests.builders.alerts import add_windows
from tests.builders.auth import access_token, api, default_project_id, make_account, make_member, make_project
from tests.builders.core import database
from tests.builders.drift import like_training, log_served, serve
from tests.builders.pipelines import read_run, register, run_jobs
from tests.builders.serving import at

HOUR = at("2025-03-01T11:00:00+00:00")
NEXT_HOUR = HOUR + timedelta(hours=1)
RETRAINING = f"{API}/monitoring/retraining"
REPORTS = f"{API}/monitoring/deployments/fraud/drift-reports"
RUNS = f"{API}/pipelines/retrain/runs"


def shifted(rows: int, seed: int) -> Any:
    served = like_training(rows, seed=seed)
    served["amount"] = served["amount"] * 3
    return served


def report_window(client: TestClient, start: str) -> dict[str, Any]:
    answer = client.post(REPORTS, json={"window": "1h", "start": start})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def retrain_on(client: TestClient, **body: Any) -> dict[str, Any]:
    answer = client.post(RETRAINING, json={"deployment": "fraud", "pipeline": "retrain", **body})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def retrain_jobs(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(f"{API}/jobs", params={"kind": RETRAIN_JOB}).json()["items"]
    return items


def runs(client: TestClient) -> list[dict[str, Any]]:
    answer = client.get(RUNS)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def the_trigger(client: TestClient) -> dict[str, Any]:
    [trigger] = client.get(RETRAINING, params={"deployment": "fraud"}).json()["items"]
    found: dict[str, Any] = trigger
    return found


@pytest.fixture
def version_id(app: FastAPI, client: TestClient) -> str:
    """Deployment ``fraud`` serving a built model, and the ``retrain`` pipeline in its project."""
    served = serve(app, client)
    assert register(client, examples.retrain).status_code == 201
    return served


class TestDriftFiresTheTrigger:
    def test_drift_fires_the_retraining_trigger_and_a_pipeline_run_starts(
        self, app: FastAPI, client: TestClient, version_id: str
    ) -> None:
        created = retrain_on(client, parameters={"rows": 50}, on=["drift"])
        assert created["pipeline"] == "retrain"
        assert created["cooldown_seconds"] == 6 * 3_600  # the default
        log_served(app, version_id, shifted(400, seed=3), start=HOUR)

        report = report_window(client, "2025-03-01T11:00:00Z")
        assert report["retrain_recommended"]
        # The report only queued a job: no run yet.
        assert len(retrain_jobs(client)) == 1
        assert runs(client) == []

        run_jobs(app)  # the retrain job, then the run it queued
        [run] = runs(client)
        assert run["triggered_by"] == "drift:fraud"
        assert run["parameters"]["rows"] == 50
        assert run["parameters"]["deployment"] == "fraud"
        assert run["parameters"]["retrain_reason"].startswith("drift: 1 of 2 features drifted (amount)")
        done = read_run(client, "retrain", run["id"])
        assert done["state"] == "succeeded", done
        logs = client.get(f"{RUNS}/{run['id']}/logs").json()
        assert any("retraining fraud: drift" in line for line in logs[0]["lines"])

        trigger = the_trigger(client)
        assert trigger["runs_started"] == 1
        assert trigger["last_run_id"] == run["id"]
        assert trigger["last_outcome"] == f"started run {run['id']} (drift:fraud)"
        [record] = client.get(f"{API}/audit", params={"action": "monitoring.retraining_triggered"}).json()[
            "items"
        ]
        assert record["actor_kind"] == "system"
        assert record["details"]["run_id"] == run["id"]
        assert record["details"]["report_id"] == report["id"]
        [notice] = client.get(f"{API}/notifications").json()["items"]
        assert notice["kind"] == "retraining.triggered"
        assert notice["title"] == "fraud: retraining started (retrain)"
        assert notice["link"] == f"/pipelines/retrain/runs/{run['id']}"

    def test_the_queued_report_job_of_a_drifted_hour_ends_in_a_finished_run(
        self, app: FastAPI, client: TestClient, version_id: str
    ) -> None:
        retrain_on(client)
        log_served(app, version_id, shifted(400, seed=5), start=HOUR)
        payload = {"deployment": "fraud", "window_seconds": 3_600, "start": HOUR.isoformat()}
        with database(app).unit_of_work() as session:
            enqueue(session, DRIFT_REPORT, payload, project_id=default_project_id(app))
        run_jobs(app)  # the report, the retrain job its DriftDetected queued, then the run
        [run] = runs(client)
        assert run["triggered_by"] == "drift:fraud"
        assert read_run(client, "retrain", run["id"])["state"] == "succeeded"

    def test_a_report_without_drift_fires_nothing(
        self, app: FastAPI, client: TestClient, version_id: str
    ) -> None:
        retrain_on(client)
        log_served(app, version_id, like_training(400, seed=1), start=HOUR)
        assert not report_window(client, "2025-03-01T11:00:00Z")["retrain_recommended"]
        assert retrain_jobs(client) == []
        run_jobs(app)
        assert runs(client) == []
        assert the_trigger(client)["runs_started"] == 0

    def test_an_alert_only_trigger_ignores_drift(
        self, app: FastAPI, client: TestClient, version_id: str
    ) -> None:
        retrain_on(client, on=["alert"])
        log_served(app, version_id, shifted(400, seed=3), start=HOUR)
        report_window(client, "2025-03-01T11:00:00Z")
        assert retrain_jobs(client) == []

    def test_a_disabled_trigger_fires_nothing(
        self, app: FastAPI, client: TestClient, version_id: str
    ) -> None:
        retrain_on(client, enabled=False)
        log_served(app, version_id, shifted(400, seed=3), start=HOUR)
        report_window(client, "2025-03-01T11:00:00Z")
        assert retrain_jobs(client) == []


class TestOneRetrainAtATime:
    def test_the_cooldown_prevents_a_second_run(
        self, app: FastAPI, client: TestClient, version_id: str
    ) -> None:
        retrain_on(client, cooldown="6h")
        log_served(app, version_id, shifted(400, seed=3), start=HOUR)
        log_served(app, version_id, shifted(400, seed=4), start=NEXT_HOUR)
        report_window(client, "2025-03-01T11:00:00Z")
        run_jobs(app)
        [first] = runs(client)
        assert read_run(client, "retrain", first["id"])["state"] == "succeeded"

        report_window(client, "2025-03-01T12:00:00Z")  # the next hour drifted too
        assert len(retrain_jobs(client)) == 2
        run_jobs(app)
        assert [run["id"] for run in runs(client)] == [first["id"]]  # finished, but cooling down
        trigger = the_trigger(client)
        assert trigger["runs_started"] == 1
        assert trigger["last_outcome"].startswith("skipped drift:fraud: cooling down until ")

    def test_no_second_run_while_the_first_is_queued(
        self, app: FastAPI, client: TestClient, version_id: str
    ) -> None:
        retrain_on(client, cooldown=0)
        log_served(app, version_id, shifted(400, seed=3), start=HOUR)
        log_served(app, version_id, shifted(400, seed=4), start=NEXT_HOUR)
        db = database(app)
        report_window(client, "2025-03-01T11:00:00Z")
        assert Worker(db, kinds=[RETRAIN_JOB]).run_pending() == 1  # the run is queued, not run
        [first] = runs(client)
        report_window(client, "2025-03-01T12:00:00Z")
        assert Worker(db, kinds=[RETRAIN_JOB]).run_pending() == 1
        assert [run["id"] for run in runs(client)] == [first["id"]]
        assert (
            the_trigger(client)["last_outcome"] == f"skipped drift:fraud: run {first['id']} is still queued"
        )

        run_jobs(app)  # the first run finishes; with no cooldown, the next drift retrains again
        report_window(client, "2025-03-01T11:00:00Z")  # recomputing a drifted window announces nothing
        assert len(runs(client)) == 1

    def test_a_job_delivered_twice_starts_one_run(
        self, app: FastAPI, client: TestClient, version_id: str
    ) -> None:
        retrain_on(client, cooldown=0)
        log_served(app, version_id, shifted(400, seed=3), start=HOUR)
        report = report_window(client, "2025-03-01T11:00:00Z")
        assert len(retrain_jobs(client)) == 1
        payload = {"deployment": "fraud", "cause": "drift", "report_id": report["id"], "summary": "again"}
        db = database(app)
        with db.unit_of_work() as session:
            enqueue(session, RETRAIN_JOB, payload, project_id=default_project_id(app))
        assert Worker(db, kinds=[RETRAIN_JOB]).run_pending() == 2
        assert len(runs(client)) == 1


class TestAlertFiresTheTrigger:
    def test_an_accuracy_rule_firing_starts_the_run(
        self, app: FastAPI, client: TestClient, version_id: str
    ) -> None:
        retrain_on(client, on=["alert"])
        rule = client.post(
            f"{API}/alerts/rules",
            json={
                "deployment": "fraud",
                "metric": "accuracy",
                "comparison": "<",
                "threshold": 0.85,
                "duration": "2m",
            },
        )
        assert rule.status_code == 201, rule.text
        base = window_start(utcnow() - timedelta(hours=2), 60)
        minute = timedelta(minutes=1)
        db = database(app)
        add_windows(
            db, default_project_id(app), "fraud", "accuracy", {base + i * minute: 0.7 for i in range(2)}
        )
        with db.unit_of_work() as session:
            evaluate_alerts(session, base + minute + timedelta(seconds=10))  # pending: nothing yet
        assert retrain_jobs(client) == []
        with db.unit_of_work() as session:
            evaluate_alerts(session, base + 2 * minute + timedelta(seconds=10))  # firing
        assert len(retrain_jobs(client)) == 1

        run_jobs(app)
        [run] = runs(client)
        assert run["triggered_by"] == "alert:fraud accuracy"
        assert run["parameters"]["retrain_reason"] == "alert fraud accuracy fired (accuracy = 0.7)"
        assert read_run(client, "retrain", run["id"])["state"] == "succeeded"

    def test_a_rule_the_trigger_does_not_name_fires_nothing(
        self, app: FastAPI, client: TestClient, version_id: str
    ) -> None:
        retrain_on(client, on=["alert"], alert_rules=["fraud f1"])
        client.post(
            f"{API}/alerts/rules",
            json={"deployment": "fraud", "metric": "accuracy", "comparison": "<", "threshold": 0.85},
        )
        base = window_start(utcnow() - timedelta(hours=2), 60)
        db = database(app)
        add_windows(db, default_project_id(app), "fraud", "accuracy", {base: 0.5})
        with db.unit_of_work() as session:
            evaluate_alerts(session, base + timedelta(seconds=70))
        run_jobs(app)
        assert runs(client) == []


class TestMakingTriggers:
    def test_an_unknown_pipeline_is_refused(self, client: TestClient, version_id: str) -> None:
        answer = client.post(RETRAINING, json={"deployment": "fraud", "pipeline": "nope"})
        assert answer.status_code == 404
        assert error_of(answer)["message"] == "pipeline 'nope' not found"

    def test_parameters_the_pipeline_refuses_are_refused_now(
        self, client: TestClient, version_id: str
    ) -> None:
        answer = client.post(
            RETRAINING, json={"deployment": "fraud", "pipeline": "retrain", "parameters": {"rows": 5}}
        )
        assert answer.status_code == 422
        assert "rows" in error_of(answer)["message"]
        unknown = client.post(
            RETRAINING, json={"deployment": "fraud", "pipeline": "retrain", "parameters": {"epochs": 3}}
        )
        assert unknown.status_code == 422
        assert "epochs" in error_of(unknown)["message"]

    def test_bad_cooldown_cause_or_deployment_are_refused(self, client: TestClient, version_id: str) -> None:
        bad_cooldown = client.post(
            RETRAINING, json={"deployment": "fraud", "pipeline": "retrain", "cooldown": "soon"}
        )
        assert bad_cooldown.status_code == 422
        assert "soon" in bad_cooldown.text
        bad_cause = client.post(
            RETRAINING, json={"deployment": "fraud", "pipeline": "retrain", "on": ["moon"]}
        )
        assert bad_cause.status_code == 422
        nothing = client.post(RETRAINING, json={"deployment": "fraud", "pipeline": "retrain", "on": []})
        assert nothing.status_code == 422
        missing = client.post(RETRAINING, json={"deployment": "ghost", "pipeline": "retrain"})
        assert missing.status_code == 404
        assert error_of(missing)["message"] == "deployment 'ghost' not found"

    def test_one_trigger_per_deployment_and_delete(self, client: TestClient, version_id: str) -> None:
        created = retrain_on(client)
        again = client.post(RETRAINING, json={"deployment": "fraud", "pipeline": "retrain"})
        assert again.status_code == 409
        assert "already has a retraining trigger" in error_of(again)["message"]
        assert client.delete(f"{RETRAINING}/{created['id']}").status_code == 204
        assert client.get(RETRAINING).json()["items"] == []
        assert client.delete(f"{RETRAINING}/{created['id']}").status_code == 404

    def test_other_projects_see_nothing_and_viewers_cannot_make_one(
        self, app: FastAPI, client: TestClient, version_id: str
    ) -> None:
        created = retrain_on(client)
        outsider = make_account(app, role=Role.ml_engineer)
        with database(app).unit_of_work() as session:
            make_project(session, members={outsider.id: Role.ml_engineer.value})
        other = api(app, access_token(app, outsider))
        assert other.get(RETRAINING).json()["items"] == []
        assert other.delete(f"{RETRAINING}/{created['id']}").status_code == 404
        answer = other.post(RETRAINING, json={"deployment": "fraud", "pipeline": "retrain"})
        assert answer.status_code == 404
        assert error_of(answer)["message"] == "deployment 'fraud' not found"
        viewer = api(app, access_token(app, make_member(app, Role.viewer)))
        assert len(viewer.get(RETRAINING).json()["items"]) == 1
        assert viewer.post(RETRAINING, json={"deployment": "fraud", "pipeline": "retrain"}).status_code == 403
