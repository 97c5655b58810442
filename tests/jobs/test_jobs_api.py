"""The job queue over HTTP: list and read, cancel and retry (audited), project scoping."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.core.actor import Actor
from kiln.jobs.worker import Worker
from tests.api import API, error_of
from tests.builders.auth import access_token, api, default_project_id, make_account, make_member, make_project
from tests.builders.core import database
from tests.builders.jobs import make_job
from tests.jobs.handlers import ECHO, FLAKY


def person(account_id: str) -> Actor:
    return Actor(kind="user", id=account_id, name=account_id, user_id=account_id)


def audit_actions(client: TestClient, job_id: str) -> list[str]:
    records = client.get(f"{API}/audit", params={"target_type": "job", "target_id": job_id}).json()["items"]
    return [record["action"] for record in records]


class TestReading:
    def test_list_filters_by_state_and_kind_and_pages(self, app: FastAPI, client: TestClient) -> None:
        project = default_project_id(app)
        done = make_job(database(app), ECHO, project_id=project)
        Worker(database(app), kinds=[ECHO]).run_pending()
        queued = [make_job(database(app), FLAKY, project_id=project) for _ in range(3)]

        listed = client.get(f"{API}/jobs", params={"state": "queued", "limit": 2}).json()
        assert [job["id"] for job in listed["items"]] == queued[::-1][:2]
        rest = client.get(f"{API}/jobs", params={"state": "queued", "cursor": listed["next_cursor"]}).json()
        assert [job["id"] for job in rest["items"]] == [queued[0]]
        assert [job["id"] for job in client.get(f"{API}/jobs", params={"kind": ECHO}).json()["items"]] == [
            done
        ]

    def test_a_job_shows_its_attempts_errors_and_traceback(self, app: FastAPI, client: TestClient) -> None:
        job_id = make_job(database(app), FLAKY, {"permanent": True}, project_id=default_project_id(app))
        Worker(database(app), kinds=[FLAKY]).run_pending()
        job = client.get(f"{API}/jobs/{job_id}").json()
        assert (job["state"], job["kind"], job["payload"]) == ("failed", FLAKY, {"permanent": True})
        assert "PermanentFailure" in job["last_traceback"]
        [attempt] = job["attempt_history"]
        assert (attempt["number"], attempt["outcome"]) == (1, "failed")
        assert attempt["error"].startswith("PermanentFailure: the input is bad")

    def test_a_bad_state_filter_is_a_422_naming_the_states(self, client: TestClient) -> None:
        response = client.get(f"{API}/jobs", params={"state": "done"})
        assert response.status_code == 422
        assert "queued" in response.text


class TestProjectScoping:
    def test_a_non_member_gets_404_for_another_projects_job_and_sees_none(self, app: FastAPI) -> None:
        outsider = make_account(app, role=Role.ml_engineer)
        with database(app).unit_of_work() as session:
            elsewhere = make_project(session).id
        job_id = make_job(database(app), ECHO, project_id=elsewhere)
        with api(app, access_token(app, outsider)) as client:
            assert client.get(f"{API}/jobs").json()["items"] == []
            for response in (
                client.get(f"{API}/jobs/{job_id}"),
                client.post(f"{API}/jobs/{job_id}/cancel"),
                client.post(f"{API}/jobs/{job_id}/retry"),
            ):
                assert response.status_code == 404
                assert error_of(response)["message"] == f"job {job_id!r} not found"

    def test_system_jobs_are_for_administrators_only(self, app: FastAPI, client: TestClient) -> None:
        job_id = make_job(database(app), ECHO)
        member = make_member(app, Role.ml_engineer)
        with api(app, access_token(app, member)) as as_member:
            assert as_member.get(f"{API}/jobs/{job_id}").status_code == 404
        assert client.get(f"{API}/jobs/{job_id}").status_code == 200


class TestCancelAndRetry:
    def test_cancelling_a_queued_job_ends_it_and_is_audited(self, app: FastAPI, client: TestClient) -> None:
        job_id = make_job(database(app), ECHO, project_id=default_project_id(app))
        response = client.post(f"{API}/jobs/{job_id}/cancel")
        assert response.status_code == 200
        assert response.json()["state"] == "cancelled"
        assert Worker(database(app), kinds=[ECHO]).run_pending() == 0
        assert audit_actions(client, job_id) == ["job.cancelled"]

    def test_a_finished_job_cannot_be_cancelled(self, app: FastAPI, client: TestClient) -> None:
        job_id = make_job(database(app), ECHO, project_id=default_project_id(app))
        Worker(database(app), kinds=[ECHO]).run_pending()
        response = client.post(f"{API}/jobs/{job_id}/cancel")
        assert response.status_code == 409
        assert error_of(response)["message"].endswith(
            "has succeeded; only queued or running jobs can be cancelled"
        )

    def test_retrying_a_failed_job_queues_it_with_a_new_budget(
        self, app: FastAPI, client: TestClient
    ) -> None:
        job_id = make_job(database(app), FLAKY, {"permanent": True}, project_id=default_project_id(app))
        Worker(database(app), kinds=[FLAKY]).run_pending()
        retried = client.post(f"{API}/jobs/{job_id}/retry").json()
        assert (retried["state"], retried["attempts"], retried["max_attempts"]) == ("queued", 1, 4)
        assert Worker(database(app), kinds=[FLAKY]).run_pending() == 1
        job = client.get(f"{API}/jobs/{job_id}").json()
        assert [a["number"] for a in job["attempt_history"]] == [1, 2]
        assert audit_actions(client, job_id) == ["job.retried"]

    def test_a_queued_job_cannot_be_retried(self, app: FastAPI, client: TestClient) -> None:
        job_id = make_job(database(app), ECHO, project_id=default_project_id(app))
        response = client.post(f"{API}/jobs/{job_id}/retry")
        assert response.status_code == 409
        assert "only failed or cancelled jobs can be retried" in error_of(response)["message"]

    def test_a_data_scientist_cancels_their_own_jobs_but_not_others(self, app: FastAPI) -> None:
        scientist = make_member(app, Role.data_scientist)
        project = default_project_id(app)
        own = make_job(database(app), ECHO, project_id=project, actor=person(scientist.id))
        theirs = make_job(database(app), ECHO, project_id=project)
        with api(app, access_token(app, scientist)) as client:
            assert client.post(f"{API}/jobs/{own}/cancel").status_code == 200
            refused = client.post(f"{API}/jobs/{theirs}/cancel")
            assert refused.status_code == 403
            assert (
                error_of(refused)["message"] == "cancelling or retrying other people's jobs needs jobs:admin"
            )

    def test_a_viewer_in_the_project_may_not_cancel_even_with_a_higher_global_role(
        self, app: FastAPI
    ) -> None:
        account = make_account(app, role=Role.ml_engineer, project_role=Role.viewer)
        job_id = make_job(database(app), ECHO, project_id=default_project_id(app), actor=person(account.id))
        with api(app, access_token(app, account)) as client:
            response = client.post(f"{API}/jobs/{job_id}/cancel")
            assert response.status_code == 403
