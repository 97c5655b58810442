"""What a version reads as, over the API and the SDK: its stage, status, gate results, the aliases
pointing at it and its pending approval; and a draft refused promotion until it is finished."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import kiln
from tests.api import API, error_of
from tests.builders.registry import fitted_forest, save_folder
from tests.builders.registry_lifecycle import build_model
from tests.live_server import serve
from tests.registry.api import upload
from tests.registry.lifecycle_api import Person, request_production, stage, to_staging

INPUTS = [{"name": "amount", "type": "number"}, {"name": "hour", "type": "number"}]


def read(client: TestClient, path: str) -> Any:
    response = client.get(f"{API}{path}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def staged(app: FastAPI, engineer: Person) -> str:
    """fraud_detector v1 in staging (gates passed), aliased champion, with a pending approval request;
    v2 still in development. Answers the approval's id."""
    build_model(app, versions=2, name="fraud_detector")
    to_staging(engineer.client, "fraud_detector", 1)
    aliased = engineer.client.put(f"{API}/models/fraud_detector/aliases/champion", json={"version": 1})
    assert aliased.status_code == 200, aliased.text
    asked = request_production(engineer.client, "fraud_detector", 1)
    assert asked.status_code == 201, asked.text
    approval_id: str = asked.json()["id"]
    return approval_id


class TestVersionRead:
    def test_a_version_shows_its_stage_gates_aliases_and_pending_approval(
        self, engineer: Person, staged: str
    ) -> None:
        version = read(engineer.client, "/models/fraud_detector/versions/1")

        assert (version["stage"], version["status"]) == ("staging", "ready")
        assert {result["gate"] for result in version["gate_results"]} >= {"artifact", "smoke"}
        assert all(result["passed"] for result in version["gate_results"])
        assert version["aliases"] == ["champion"]
        assert version["pending_approval_id"] == staged

    def test_the_list_of_versions_carries_the_same(self, engineer: Person, staged: str) -> None:
        items = read(engineer.client, "/models/fraud_detector/versions")["items"]

        by_number = {item["number"]: item for item in items}
        assert (by_number[1]["aliases"], by_number[1]["pending_approval_id"]) == (["champion"], staged)
        assert (by_number[2]["stage"], by_number[2]["aliases"], by_number[2]["gate_results"]) == (
            "development",
            [],
            [],
        )
        assert by_number[2]["pending_approval_id"] is None

    def test_a_decided_approval_is_no_longer_pending(
        self, engineer: Person, approver: Person, staged: str
    ) -> None:
        decided = approver.client.post(f"{API}/approvals/{staged}/reject", json={"reason": "not yet"})
        assert decided.status_code == 200, decided.text

        assert read(engineer.client, "/models/fraud_detector/versions/1")["pending_approval_id"] is None

    def test_the_sdk_returns_them(
        self, app: FastAPI, admin_token: str, engineer: Person, staged: str
    ) -> None:
        with serve(app) as url, kiln.Client(url, token=admin_token) as client:
            version = client.models.version("fraud_detector", 1)
            listed = client.models.all_versions("fraud_detector")

        assert (version.stage, version.aliases, version.pending_approval_id) == (
            "staging",
            ["champion"],
            staged,
        )
        assert version.gate_results
        assert [item.aliases for item in listed] == [[], ["champion"]]


class TestDraftPromotion:
    @pytest.fixture
    def draft(self, engineer: Person) -> dict[str, Any]:
        payload = (save_folder(*fitted_forest()) / "model.skops").read_bytes()
        return upload(engineer.client, "fraud_detector", payload, "model.skops", inputs=INPUTS)

    def test_a_draft_cannot_go_to_staging_until_it_is_finished(
        self, engineer: Person, draft: dict[str, Any]
    ) -> None:
        assert draft["status"] == "draft"

        refused = stage(engineer.client, "fraud_detector", 1, "staging")

        assert refused.status_code == 409
        error = error_of(refused)
        assert "is a draft: finish it first" in error["message"]
        assert "/versions/1/finish" in error["message"]
        assert read(engineer.client, "/models/fraud_detector/versions/1")["stage"] == "development"

    def test_a_draft_cannot_be_requested_for_production(
        self, engineer: Person, draft: dict[str, Any]
    ) -> None:
        for refused in (
            stage(engineer.client, "fraud_detector", 1, "production"),
            request_production(engineer.client, "fraud_detector", 1),
        ):
            assert refused.status_code == 409
            assert "finish it first" in error_of(refused)["message"]
