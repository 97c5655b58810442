"""Rollback: production returns to the previous production version, the rolled-back one is marked failed."""

from __future__ import annotations

from fastapi import FastAPI

from tests.api import API, error_of
from tests.builders.registry_lifecycle import build_model
from tests.registry.lifecycle_api import Person, history, stage, stages, to_production


def roll_back(person: Person, model: str, reason: str = "error rate doubled") -> dict[str, object]:
    response = person.client.post(f"{API}/models/{model}/rollback", json={"reason": reason})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


class TestRollback:
    def test_rollback_restores_the_previous_version_and_marks_the_other_failed(
        self, app: FastAPI, engineer: Person, approver: Person
    ) -> None:
        v1, _v2 = build_model(app, versions=2)
        to_production(engineer.client, approver.client, v1.model, 1)
        to_production(engineer.client, approver.client, v1.model, 2)
        result = roll_back(approver, v1.model)
        assert result["restored"]["number"] == 1  # type: ignore[index]
        assert result["failed"]["stage"] == "failed"  # type: ignore[index]
        assert stages(engineer.client, v1.model) == {1: "production", 2: "failed"}
        failed, restored = history(engineer.client, v1.model)[-2:]
        assert (failed["version_number"], failed["from_stage"], failed["to_stage"]) == (
            2,
            "production",
            "failed",
        )
        assert failed["reason"] == "error rate doubled"
        assert failed["changed_by"] == approver.account.email
        assert restored["reason"] == "rollback from version 2: error rate doubled"
        assert engineer.client.get(f"{API}/models/{v1.model}/production").json()["version"]["number"] == 1

    def test_a_failed_version_is_skipped_and_the_first_production_has_nothing_to_return_to(
        self, app: FastAPI, engineer: Person, approver: Person
    ) -> None:
        v1, _v2 = build_model(app, versions=2)
        to_production(engineer.client, approver.client, v1.model, 1)
        first = engineer.client.post(f"{API}/models/{v1.model}/rollback", json={"reason": "x"})
        assert first.status_code == 409
        assert "no earlier production version" in error_of(first)["message"]
        to_production(engineer.client, approver.client, v1.model, 2)
        roll_back(engineer, v1.model)
        again = engineer.client.post(f"{API}/models/{v1.model}/rollback", json={"reason": "again"})
        assert again.status_code == 409  # version 2 failed; version 1 is the first
        assert stages(engineer.client, v1.model) == {1: "production", 2: "failed"}

    def test_without_production_or_reason_there_is_no_rollback(self, app: FastAPI, engineer: Person) -> None:
        [v1] = build_model(app)
        nothing = engineer.client.post(f"{API}/models/{v1.model}/rollback", json={"reason": "x"})
        assert nothing.status_code == 409
        assert "has no version in production" in error_of(nothing)["message"]
        assert (
            engineer.client.post(f"{API}/models/{v1.model}/rollback", json={"reason": ""}).status_code == 422
        )

    def test_a_data_scientist_cannot_roll_back(
        self, app: FastAPI, engineer: Person, approver: Person, scientist: Person
    ) -> None:
        v1, _v2 = build_model(app, versions=2)
        to_production(engineer.client, approver.client, v1.model, 1)
        to_production(engineer.client, approver.client, v1.model, 2)
        assert (
            scientist.client.post(f"{API}/models/{v1.model}/rollback", json={"reason": "x"}).status_code
            == 403
        )
        assert stage(scientist.client, v1.model, 2, "archived").status_code == 403  # leaving production
