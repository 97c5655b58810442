"""The job pages: the queue by state, one job with its attempts and traceback, cancel and retry;
the schedules section with next fire times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.jobs.scheduler import fire_due_schedules
from kiln.jobs.worker import Worker
from tests.builders.auth import default_project_id
from tests.builders.core import database
from tests.builders.jobs import make_job, make_schedule
from tests.jobs.handlers import ECHO, FLAKY
from tests.ui.html_tree import Element, get_page
from tests.ui.sessions import submit

pytestmark = pytest.mark.usefixtures("logged_in")


def state_shown(page: Element) -> str:
    return next(element.attrs["data-state"] for element in page.iter() if "data-state" in element.attrs)


def states_listed(client: TestClient, url: str) -> dict[str, str]:
    rows = [element for element in get_page(client, url).iter() if "data-job" in element.attrs]
    return {row.attrs["data-job"]: state_shown(row) for row in rows}


class TestJobPages:
    def test_the_list_shows_jobs_by_state(self, app: FastAPI, client: TestClient) -> None:
        project = default_project_id(app)
        failed = make_job(database(app), FLAKY, {"permanent": True}, project_id=project)
        Worker(database(app), kinds=[FLAKY]).run_pending()
        queued = make_job(database(app), ECHO, project_id=project)
        assert states_listed(client, "/jobs") == {failed: "failed", queued: "queued"}
        assert states_listed(client, "/jobs?state=failed") == {failed: "failed"}

    def test_a_failed_job_shows_its_error_and_traceback_and_retries(
        self, app: FastAPI, client: TestClient
    ) -> None:
        job_id = make_job(database(app), FLAKY, {"permanent": True}, project_id=default_project_id(app))
        Worker(database(app), kinds=[FLAKY]).run_pending()
        page = get_page(client, f"/jobs/{job_id}")
        assert "PermanentFailure: the input is bad" in page.find("table", id="attempts-table").text()
        assert "Traceback" in page.find("pre", id="job-traceback").text()

        response = submit(client, f"/jobs/{job_id}", f"/jobs/{job_id}/retry", {})
        assert response.status_code == 303
        retried = get_page(client, response.headers["location"])
        assert state_shown(retried) == "queued"
        assert "queued again" in retried.text()

    def test_cancelling_from_the_page(self, app: FastAPI, client: TestClient) -> None:
        job_id = make_job(database(app), ECHO, project_id=default_project_id(app))
        response = submit(client, f"/jobs/{job_id}", f"/jobs/{job_id}/cancel", {})
        assert response.status_code == 303
        page = get_page(client, f"/jobs/{job_id}")
        assert state_shown(page) == "cancelled"
        assert page.find_all("form", id="cancel-form") == []

    def test_an_unknown_job_is_the_404_page(self, client: TestClient) -> None:
        get_page(client, "/jobs/01234567-89ab-7cde-8f01-234567890abc", status=404)


class TestSchedulesSection:
    def test_the_jobs_page_lists_schedules_with_their_next_fire(
        self, app: FastAPI, client: TestClient
    ) -> None:
        made = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
        nightly = make_schedule(app, ECHO, name="nightly", time_zone="Europe/Paris", now=made)
        paused = make_schedule(app, ECHO, name="paused", enabled=False, now=made)
        table = get_page(client, "/jobs").find("table", id="schedules-table")
        rows = {
            row.attrs["data-schedule"]: row.text() for row in table.iter() if "data-schedule" in row.attrs
        }
        assert set(rows) == {nightly, paused}
        # 02:00 in Paris, and the same moment in UTC.
        assert "2026-12-05 02:00 Europe/Paris" in rows[nightly]
        assert "2026-12-05 01:00:00 UTC" in rows[nightly]
        assert "disabled" in rows[paused]

    def test_with_no_schedules_it_says_how_to_make_one(self, client: TestClient) -> None:
        section = get_page(client, "/jobs").find("section", id="schedules")
        assert "kiln jobs schedule create" in section.text()

    def test_a_scheduled_job_shows_the_fire_it_stands_for(self, app: FastAPI, client: TestClient) -> None:
        make_schedule(app, ECHO, now=datetime(2026, 12, 4, 12, 0, tzinfo=UTC))
        fire_due_schedules(database(app), now=datetime(2026, 12, 5, 2, 0, tzinfo=UTC))
        [job] = client.get("/api/v1/jobs").json()["items"]
        shown = get_page(client, f"/jobs/{job['id']}").find("dd", id="job-scheduled-for")
        assert "2026-12-05 02:00:00" in shown.text()
