"""Stage history, and which version was in production at a given moment (API)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from fastapi import FastAPI

from kiln.auth.permissions import Role
from kiln.core.ids import utcnow
from tests.api import API, error_of
from tests.builders.auth import api, make_account, make_project, open_session
from tests.builders.core import database
from tests.builders.registry_lifecycle import build_model
from tests.registry.lifecycle_api import Person, history, to_production


def moment() -> datetime:
    """A time strictly between two changes (the clock moves on before and after it)."""
    time.sleep(0.01)
    at = utcnow()
    time.sleep(0.01)
    return at


def production_at(person: Person, model: str, at: datetime) -> int | None:
    response = person.client.get(f"{API}/models/{model}/production", params={"at": at.isoformat()})
    if response.status_code == 404:
        assert "had no version in production" in error_of(response)["message"]
        return None
    assert response.status_code == 200, response.text
    number: int = response.json()["version"]["number"]
    return number


class TestProductionAt:
    def test_the_answer_is_right_across_several_promotions_and_a_rollback(
        self, app: FastAPI, engineer: Person, approver: Person
    ) -> None:
        v1, _v2, _v3 = build_model(app, versions=3)
        before_all = moment()
        to_production(engineer.client, approver.client, v1.model, 1)
        with_1 = moment()
        to_production(engineer.client, approver.client, v1.model, 2)
        with_2 = moment()
        to_production(engineer.client, approver.client, v1.model, 3)
        with_3 = moment()
        engineer.client.post(f"{API}/models/{v1.model}/rollback", json={"reason": "latency"})
        after_rollback = moment()
        engineer.client.post(f"{API}/models/{v1.model}/versions/2/stage", json={"stage": "archived"})
        retired = moment()

        answers = [production_at(engineer, v1.model, at) for at in (before_all, with_1, with_2, with_3)]
        assert answers == [None, 1, 2, 3]
        assert production_at(engineer, v1.model, after_rollback) == 2
        assert production_at(engineer, v1.model, retired) is None
        assert production_at(engineer, v1.model, with_2.astimezone(timezone(timedelta(hours=2)))) == 2

    def test_a_time_without_a_zone_is_utc_and_a_bad_time_is_a_422(
        self, app: FastAPI, engineer: Person, approver: Person
    ) -> None:
        [v1] = build_model(app)
        to_production(engineer.client, approver.client, v1.model, 1)
        naive = (utcnow() + timedelta(seconds=1)).replace(tzinfo=None).isoformat()
        answer = engineer.client.get(f"{API}/models/{v1.model}/production", params={"at": naive})
        assert answer.json()["version"]["number"] == 1
        bad = engineer.client.get(f"{API}/models/{v1.model}/production", params={"at": "last tuesday"})
        assert bad.status_code == 422
        assert "at" in error_of(bad)["message"]


class TestHistory:
    def test_every_change_with_time_actor_reason_and_approval_oldest_first(
        self, app: FastAPI, engineer: Person, approver: Person
    ) -> None:
        [v1] = build_model(app)
        decided = to_production(engineer.client, approver.client, v1.model, 1)
        staged, promoted = history(engineer.client, v1.model)
        assert (staged["to_stage"], staged["changed_by"], staged["approval_id"]) == (
            "staging",
            engineer.account.email,
            None,
        )
        assert (promoted["to_stage"], promoted["changed_by"], promoted["approval_id"]) == (
            "production",
            approver.account.email,
            decided["id"],
        )
        assert promoted["reason"] == "approved: looks right"
        assert datetime.fromisoformat(staged["changed_at"]) <= datetime.fromisoformat(promoted["changed_at"])
        assert datetime.fromisoformat(promoted["changed_at"]).tzinfo is not None
        missing = engineer.client.get(f"{API}/models/{v1.model}/history", params={"version": "@nothing"})
        assert missing.status_code == 404
        assert "has no alias @nothing" in error_of(missing)["message"]

    def test_a_member_of_another_project_sees_no_history(self, app: FastAPI, engineer: Person) -> None:
        [v1] = build_model(app)
        outsider = make_account(app, role=Role.ml_engineer)
        with database(app).unit_of_work() as session:
            make_project(session, members={outsider.id: Role.ml_engineer.value})
        other = api(app, open_session(app, outsider).access_token)
        hidden = other.get(f"{API}/models/{v1.model}/history")
        assert hidden.status_code == 404
        assert v1.model in error_of(hidden)["message"]
        assert other.get(f"{API}/models/{v1.model}/production").status_code == 404
