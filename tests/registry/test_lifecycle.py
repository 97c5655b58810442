"""Stage transitions: the gates on the way to staging, the refusals that say what is allowed, who may move."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.audit.models import AuditRecord
from kiln.registry.models import ModelVersion
from tests.api import API, error_of
from tests.builders.registry_lifecycle import build_model, corrupt_payload
from tests.registry.lifecycle_api import Person, history, request_production, stage, to_production, to_staging

ACCURACY_GATE = {"metrics": [{"metric": "accuracy", "op": ">=", "value": 0.85}]}


class TestStaging:
    def test_a_version_whose_gates_pass_enters_staging_with_its_gate_results(
        self, app: FastAPI, scientist: Person
    ) -> None:
        [v1] = build_model(app, metrics=[{"accuracy": 0.91}], gates=ACCURACY_GATE)
        body = to_staging(scientist.client, v1.model, 1)
        assert body["stage"] == "staging"
        assert {r["gate"]: r["passed"] for r in body["gate_results"]} == {
            "artifact": True,
            "smoke": True,
            "metric: accuracy >= 0.85": True,
        }
        [change] = history(scientist.client, v1.model)
        assert (change["from_stage"], change["to_stage"], change["reason"]) == (
            "development",
            "staging",
            "tests pass",
        )
        assert change["changed_by"] == scientist.account.email

    def test_a_failing_metric_gate_blocks_staging_and_records_which_gate_and_why(
        self, app: FastAPI, scientist: Person, engineer: Person, session: Session
    ) -> None:
        [v1] = build_model(app, metrics=[{"accuracy": 0.80}], gates=ACCURACY_GATE)
        refused = stage(scientist.client, v1.model, 1, "staging")
        assert refused.status_code == 409
        error = error_of(refused)
        assert error["code"] == "gates_failed"
        assert "metric: accuracy >= 0.85" in error["message"]
        assert "accuracy is 0.8" in error["message"]
        [failed] = error["details"]["failed"]
        assert failed["gate"] == "metric: accuracy >= 0.85"
        # Nothing moved, and the gate results stayed on the version (the refusal was committed).
        assert history(scientist.client, v1.model) == []
        version = session.get_one(ModelVersion, v1.id)
        assert version.stage == "development"
        assert [r["passed"] for r in version.gate_results] == [True, True, False]
        assert session.scalar(select(AuditRecord).where(AuditRecord.action == "model_version.gates_failed"))
        # And asking for production now answers with what failed.
        asked = request_production(engineer.client, v1.model, 1)
        assert asked.status_code == 409
        assert "accuracy" in error_of(asked)["message"]

    def test_bytes_changed_in_the_store_fail_the_artifact_gate(self, app: FastAPI, scientist: Person) -> None:
        [v1] = build_model(app)
        corrupt_payload(app, v1)
        refused = stage(scientist.client, v1.model, 1, "staging")
        assert refused.status_code == 409
        failed = {r["gate"]: r["detail"] for r in error_of(refused)["details"]["failed"]}
        assert "model.skops" in failed["artifact"]
        assert "sha256" in failed["artifact"]
        assert failed["smoke"] == "not run: the artifact did not load"

    def test_gates_are_validated_when_set(self, app: FastAPI, engineer: Person) -> None:
        [v1] = build_model(app)
        url = f"{API}/models/{v1.model}/gates"
        bad = engineer.client.put(url, json={"metrics": [{"metric": "accuracy", "op": "=>", "value": 0.8}]})
        assert bad.status_code == 422
        assert "op" in error_of(bad)["message"]
        shape = engineer.client.put(url, json={"metrics": {"accuracy": 0.8}})
        assert shape.status_code == 422
        good = {
            "metrics": [{"metric": "accuracy", "op": ">=", "value": 0.85}],
            "no_worse_than_production": {"metric": "accuracy", "tolerance": 0.02, "higher_is_better": True},
        }
        assert engineer.client.put(url, json=good).status_code == 200
        assert engineer.client.get(url).json() == good

    def test_no_worse_than_production_compares_with_the_version_in_production(
        self, app: FastAPI, engineer: Person, approver: Person
    ) -> None:
        gates = {"no_worse_than_production": {"metric": "accuracy", "tolerance": 0.02}}
        v1, _v2, _v3 = build_model(
            app, versions=3, metrics=[{"accuracy": 0.90}, {"accuracy": 0.89}, {"accuracy": 0.85}], gates=gates
        )
        to_production(engineer.client, approver.client, v1.model, 1)
        assert to_staging(engineer.client, v1.model, 2)["stage"] == "staging"  # 0.01 worse: within tolerance
        refused = stage(engineer.client, v1.model, 3, "staging")
        assert refused.status_code == 409
        assert "against production v1's 0.9" in error_of(refused)["message"]


class TestTransitions:
    def test_archived_cannot_go_to_production_and_the_refusal_lists_the_allowed_next_steps(
        self, app: FastAPI, scientist: Person
    ) -> None:
        [v1] = build_model(app)
        assert stage(scientist.client, v1.model, 1, "archived", "superseded").status_code == 200
        refused = stage(scientist.client, v1.model, 1, "production")
        assert refused.status_code == 409
        error = error_of(refused)
        assert error["code"] == "stage_transition_denied"
        assert error["details"]["allowed"] == ["staging", "development"]
        assert "is archived; it cannot go to production" in error["message"]
        assert "staging (runs the gates)" in error["message"]

    def test_production_is_reached_only_through_an_approval(self, app: FastAPI, engineer: Person) -> None:
        [v1] = build_model(app)
        to_staging(engineer.client, v1.model, 1)
        refused = stage(engineer.client, v1.model, 1, "production")
        assert refused.status_code == 409
        assert "approval-requests" in error_of(refused)["message"]
        assert "failed" in error_of(stage(engineer.client, v1.model, 1, "failed"))["message"]

    def test_development_cannot_skip_staging(self, app: FastAPI, engineer: Person) -> None:
        [v1] = build_model(app)
        refused = request_production(engineer.client, v1.model, 1)
        assert refused.status_code == 409
        assert error_of(refused)["details"]["allowed"] == ["staging", "archived"]

    def test_an_unknown_model_or_version_is_a_404_naming_it(self, app: FastAPI, engineer: Person) -> None:
        [v1] = build_model(app)
        missing = stage(engineer.client, "no-such-model", 1, "staging")
        assert missing.status_code == 404
        assert "no-such-model" in error_of(missing)["message"]
        assert "no version 9" in error_of(stage(engineer.client, v1.model, 9, "staging"))["message"]


class TestWhoMayMove:
    def test_a_viewer_cannot_promote(self, app: FastAPI, viewer: Person) -> None:
        [v1] = build_model(app)
        refused = stage(viewer.client, v1.model, 1, "staging")
        assert refused.status_code == 403
        assert "models:promote_staging" in error_of(refused)["message"]

    def test_a_data_scientist_cannot_ask_for_production(self, app: FastAPI, scientist: Person) -> None:
        [v1] = build_model(app)
        to_staging(scientist.client, v1.model, 1)
        assert request_production(scientist.client, v1.model, 1).status_code == 403

    def test_an_auditor_reads_everything_and_changes_nothing(
        self, app: FastAPI, auditor: Person, engineer: Person, approver: Person
    ) -> None:
        [v1] = build_model(app)
        to_production(engineer.client, approver.client, v1.model, 1)
        client, model = auditor.client, v1.model
        assert [c["to_stage"] for c in history(client, model)] == ["staging", "production"]
        assert client.get(f"{API}/models/{model}/production").json()["version"]["number"] == 1
        assert client.get(f"{API}/approvals").json()["items"][0]["status"] == "approved"
        assert client.get(f"{API}/models/{model}/aliases").status_code == 200
        assert client.get(f"{API}/models/{model}/gates").status_code == 200
        assert client.get(f"{API}/audit").status_code == 200
        writes = [
            stage(client, model, 1, "archived"),
            request_production(client, model, 1),
            client.post(f"{API}/models/{model}/rollback", json={"reason": "x"}),
            client.put(f"{API}/models/{model}/aliases/champion", json={"version": 1}),
            client.put(f"{API}/models/{model}/gates", json={}),
        ]
        assert [response.status_code for response in writes] == [403] * len(writes)
        assert [c["to_stage"] for c in history(client, model)] == ["staging", "production"]
