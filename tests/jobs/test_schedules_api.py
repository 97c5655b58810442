"""Schedules over HTTP: create (checked), list and page, read, enable and disable, delete; audited;
project scoped (404 to non-members)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kiln.auth.permissions import Role
from kiln.core.ids import utcnow
from kiln.jobs.models import Job
from kiln.jobs.scheduler import fire_due_schedules
from tests.api import API, error_of
from tests.builders.auth import access_token, api, default_project_id, make_account, make_member, make_project
from tests.builders.core import database
from tests.builders.jobs import make_schedule
from tests.jobs.handlers import ECHO


def body(app: FastAPI, **fields: Any) -> dict[str, Any]:
    return {
        "name": "nightly",
        "cron": "0 2 * * *",
        "time_zone": "Europe/Paris",
        "kind": ECHO,
        "payload": {"dataset": "telemetry"},
        "project_id": default_project_id(app),
        **fields,
    }


def audit_actions(client: TestClient, schedule_id: str) -> list[str]:
    records = client.get(f"{API}/audit", params={"target_type": "schedule", "target_id": schedule_id}).json()[
        "items"
    ]
    return sorted(record["action"] for record in records)


class TestCreate:
    def test_a_schedule_is_created_with_its_next_fire_time(self, app: FastAPI, client: TestClient) -> None:
        response = client.post(f"{API}/schedules", json=body(app, catch_up="once"))
        assert response.status_code == 201, response.text
        schedule = response.json()
        assert (schedule["name"], schedule["kind"], schedule["catch_up"], schedule["enabled"]) == (
            "nightly",
            ECHO,
            "once",
            True,
        )
        assert schedule["payload"] == {"dataset": "telemetry"}
        next_fire = datetime.fromisoformat(schedule["next_fire_at"])
        assert utcnow() < next_fire <= utcnow() + timedelta(days=1)
        # 02:00 in Paris: 01:00 UTC in winter, 00:00 in summer.
        assert (next_fire.hour, next_fire.minute) in {(1, 0), (0, 0)}
        assert audit_actions(client, schedule["id"]) == ["schedule.created"]

    @pytest.mark.parametrize(
        ("fields", "named"),
        [
            ({"cron": "0 25 * * *"}, "cron"),
            ({"cron": "every night"}, "cron"),
            ({"cron": "* * * * * *"}, "cron"),
            ({"cron": "rm -rf /; 0 2 * * *"}, "cron"),
            ({"time_zone": "Europe/Atlantis"}, "time_zone"),
            ({"time_zone": "../../etc/passwd"}, "time_zone"),
            ({"catch_up": "sometimes"}, "catch_up"),
        ],
    )
    def test_a_bad_expression_zone_or_policy_is_a_422_naming_it(
        self, app: FastAPI, client: TestClient, fields: dict[str, str], named: str
    ) -> None:
        response = client.post(f"{API}/schedules", json=body(app, **fields))
        assert response.status_code == 422
        error = error_of(response)
        assert error["details"]["errors"][0]["field"] == f"body.{named}"
        assert next(iter(fields.values())) in error["message"] or named == "catch_up"
        assert client.get(f"{API}/schedules").json()["items"] == []

    def test_an_unknown_job_kind_is_refused_naming_the_kinds(self, app: FastAPI, client: TestClient) -> None:
        response = client.post(f"{API}/schedules", json=body(app, kind="pipelines.nope"))
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "unknown_job_kind"
        assert "pipelines.nope" in error["message"]
        assert ECHO in error["message"]

    def test_an_expression_that_never_fires_is_refused(self, app: FastAPI, client: TestClient) -> None:
        response = client.post(f"{API}/schedules", json=body(app, cron="0 0 30 2 *"))
        assert response.status_code == 400
        assert "never fires" in error_of(response)["message"]

    def test_a_name_is_unique_in_its_project(self, app: FastAPI, client: TestClient) -> None:
        assert client.post(f"{API}/schedules", json=body(app)).status_code == 201
        response = client.post(f"{API}/schedules", json=body(app))
        assert response.status_code == 409
        assert "nightly" in error_of(response)["message"]


class TestReadAndChange:
    def test_list_is_by_name_and_pages(self, app: FastAPI, client: TestClient) -> None:
        for name in ("c", "a", "b"):
            assert client.post(f"{API}/schedules", json=body(app, name=name)).status_code == 201
        first = client.get(f"{API}/schedules", params={"limit": 2}).json()
        assert [item["name"] for item in first["items"]] == ["a", "b"]
        rest = client.get(f"{API}/schedules", params={"cursor": first["next_cursor"]}).json()
        assert [item["name"] for item in rest["items"]] == ["c"]
        assert rest["next_cursor"] is None

    def test_disable_and_enable_again(self, app: FastAPI, client: TestClient) -> None:
        schedule_id = client.post(f"{API}/schedules", json=body(app)).json()["id"]
        disabled = client.patch(f"{API}/schedules/{schedule_id}", json={"enabled": False}).json()
        assert (disabled["enabled"], disabled["next_fire_at"]) == (False, None)
        assert (
            client.get(f"{API}/schedules", params={"enabled": "false"}).json()["items"][0]["id"]
            == schedule_id
        )
        enabled = client.patch(f"{API}/schedules/{schedule_id}", json={"enabled": True}).json()
        assert enabled["enabled"] is True
        assert datetime.fromisoformat(enabled["next_fire_at"]) > utcnow()
        assert audit_actions(client, schedule_id) == [
            "schedule.created",
            "schedule.updated",
            "schedule.updated",
        ]

    def test_a_new_expression_moves_the_next_fire_and_is_checked(
        self, app: FastAPI, client: TestClient
    ) -> None:
        schedule_id = client.post(f"{API}/schedules", json=body(app)).json()["id"]
        changed = client.patch(
            f"{API}/schedules/{schedule_id}", json={"cron": "*/5 * * * *", "time_zone": "UTC"}
        )
        assert changed.status_code == 200
        next_fire = datetime.fromisoformat(changed.json()["next_fire_at"])
        assert next_fire.minute % 5 == 0
        assert next_fire - utcnow() <= timedelta(minutes=5)
        bad = client.patch(f"{API}/schedules/{schedule_id}", json={"cron": "61 * * * *"})
        assert bad.status_code == 422
        assert "61 * * * *" in error_of(bad)["message"]

    def test_delete_keeps_the_jobs_it_enqueued(self, app: FastAPI, client: TestClient) -> None:
        schedule_id = make_schedule(app, ECHO, now=datetime(2026, 12, 4, 12, 0, tzinfo=UTC))
        assert fire_due_schedules(database(app), now=datetime(2026, 12, 5, 2, 0, tzinfo=UTC)).jobs == 1
        assert client.delete(f"{API}/schedules/{schedule_id}").status_code == 204
        assert client.get(f"{API}/schedules/{schedule_id}").status_code == 404
        with database(app).unit_of_work() as session:
            [job] = session.scalars(select(Job)).all()
            assert job.schedule_id is None
        assert audit_actions(client, schedule_id) == ["schedule.created", "schedule.deleted"]


class TestAccess:
    def test_a_non_member_gets_404_and_sees_none(self, app: FastAPI, client: TestClient) -> None:
        outsider = make_account(app, role=Role.ml_engineer)
        schedule_id = client.post(f"{API}/schedules", json=body(app)).json()["id"]
        with api(app, access_token(app, outsider)) as as_outsider:
            assert as_outsider.get(f"{API}/schedules").json()["items"] == []
            for response in (
                as_outsider.get(f"{API}/schedules/{schedule_id}"),
                as_outsider.patch(f"{API}/schedules/{schedule_id}", json={"enabled": False}),
                as_outsider.delete(f"{API}/schedules/{schedule_id}"),
            ):
                assert response.status_code == 404
                assert error_of(response)["message"] == f"schedule {schedule_id!r} not found"
            created = as_outsider.post(f"{API}/schedules", json=body(app, name="mine"))
            assert created.status_code == 404
        assert client.get(f"{API}/schedules/{schedule_id}").json()["enabled"] is True

    def test_a_member_sees_only_their_projects_schedules(self, app: FastAPI, client: TestClient) -> None:
        with database(app).unit_of_work() as session:
            elsewhere = make_project(session).id
        client.post(f"{API}/schedules", json=body(app, name="here"))
        client.post(f"{API}/schedules", json=body(app, name="there", project_id=elsewhere))
        member = make_member(app, Role.viewer)
        with api(app, access_token(app, member)) as as_member:
            assert [item["name"] for item in as_member.get(f"{API}/schedules").json()["items"]] == ["here"]

    def test_a_viewer_reads_but_may_not_create(self, app: FastAPI, client: TestClient) -> None:
        viewer = make_member(app, Role.viewer)
        with api(app, access_token(app, viewer)) as as_viewer:
            assert as_viewer.get(f"{API}/schedules").status_code == 200
            response = as_viewer.post(f"{API}/schedules", json=body(app))
            assert response.status_code == 403
            assert "schedules:write" in error_of(response)["message"]
