"""Register → deploy → predict over HTTP; readiness; following a stage; two apps on one database."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from kiln.app import kiln_state
from kiln.auth.permissions import Role
from kiln.core.actor import SYSTEM
from kiln.serving import deployments
from kiln.serving.deployment_models import Deployment
from kiln.serving.deployment_schemas import DeploymentSpec
from tests.api import API, error_of
from tests.builders.auth import api, make_account, make_project, open_session
from tests.builders.core import database, unique
from tests.builders.deployments import ROWS, deploy, predict, refresh, serve_model
from tests.builders.registry_lifecycle import build_model
from tests.registry.lifecycle_api import person, to_production


class TestPredict:
    def test_deploy_then_predict_answers_version_and_request_id(
        self, app: FastAPI, client: TestClient
    ) -> None:
        [v1] = build_model(app, name=unique("fraud"))
        created = deploy(client, "fraud-api", v1.model, version=1)
        assert created["model"] == {"name": v1.model, "version": 1, "version_id": v1.id}
        refresh(app)

        response = predict(client, "fraud-api", {"inputs": ROWS})

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["predictions"] == [1, 0]
        assert len(body["probabilities"]) == 2
        assert body["classes"] == [0, 1]
        assert body["model"] == {"name": v1.model, "version": 1, "version_id": v1.id}
        assert response.headers["x-request-id"] == body["request_id"]
        assert body["request_id"][14] == "7"  # a UUIDv7
        columns = predict(client, "fraud-api", {"columns": {"amount": [80.0], "age": [30.0]}})
        assert columns.json()["predictions"] == [1]
        # Logged, with the version that answered.
        logger = kiln_state(app).prediction_logger
        logger.flush()
        logged = client.get(f"{API}/predictions", params={"deployment": "fraud-api"}).json()["items"]
        assert {item["request_id"] for item in logged} >= {body["request_id"]}

    def test_a_prediction_has_the_security_headers_and_is_counted_under_its_route(
        self, app: FastAPI, client: TestClient, admin_token: str
    ) -> None:
        # The predict route is answered from Kiln's ASGI layer (kiln.core.direct_routes), not FastAPI.
        response = predict(client, serve_model(app, admin_token))
        missing = predict(client, "no-such-api")

        assert response.status_code == 200, response.text
        for answer in (response, missing):
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert error_of(missing)["message"] == "deployment 'no-such-api' not found"
        assert missing.headers["x-request-id"] == error_of(missing)["details"]["request_id"]
        metrics = client.get("/metrics").text
        assert 'route="/api/v1/deployments/{name}/predict",status="200"' in metrics
        assert 'route="/api/v1/deployments/{name}/predict",status="404"' in metrics

    def test_bad_input_is_a_422_naming_the_field(self, app: FastAPI, client: TestClient) -> None:
        [v1] = build_model(app, name=unique("fraud"))
        deploy(client, "fraud-422", v1.model, version=1)
        refresh(app)

        response = predict(client, "fraud-422", {"inputs": [{"amount": "lots", "age": 30.0}]})

        assert response.status_code == 422, response.text
        assert "amount" in response.json()["error"]["message"]
        assert response.json()["error"]["details"]["request_id"] == response.headers["x-request-id"]
        shape = predict(client, "fraud-422", {"rows": []})
        assert shape.status_code == 422
        assert "inputs" in shape.json()["error"]["message"]

    def test_numbers_no_double_holds_are_a_422_naming_the_field(
        self, app: FastAPI, client: TestClient
    ) -> None:
        [v1] = build_model(app, name=unique("fraud"))
        deploy(client, "fraud-huge", v1.model, version=1)
        refresh(app)
        huge = "1" + "0" * 400  # valid JSON, past the largest double
        bodies = [
            ("amount", f'{{"inputs": [{{"amount": {huge}, "age": 30.0}}]}}'),
            ("age", f'{{"inputs": [{{"amount": 5.0, "age": -{huge}}}, {{"amount": 1.0, "age": 2.0}}]}}'),
            ("amount", f'{{"columns": {{"amount": [{huge}], "age": [30.0]}}}}'),
            ("amount", '{"inputs": [{"amount": 1e999, "age": 30.0}]}'),  # infinity once parsed
        ]
        for field, body in bodies:
            response = client.post(
                f"{API}/deployments/fraud-huge/predict",
                content=body,
                headers={"content-type": "application/json"},
            )
            assert response.status_code == 422, (field, response.text)
            assert error_of(response)["message"].startswith(f"{field}: expected a number")
        # The deployment still answers clean requests.
        assert predict(client, "fraud-huge", {"inputs": ROWS}).status_code == 200

    def test_a_model_that_raises_answers_500_and_the_next_request_works(
        self, app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        [v1] = build_model(app, name=unique("fraud"))
        deploy(client, "fraud-500", v1.model, version=1)
        refresh(app)
        route = kiln_state(app).model_cache.route("fraud-500")
        assert route is not None
        assert route.model is not None
        # The model's own code fails (as a user's model can), once. Patched on its class: serving
        # may call a copy of the loaded estimator (sklearn_predictor's twin without column names).
        estimator_class = type(route.model.model)
        original = estimator_class.predict_proba

        def broken(self: object, X: object) -> object:
            monkeypatch.setattr(estimator_class, "predict_proba", original)
            raise RuntimeError("feature store unreachable")

        monkeypatch.setattr(estimator_class, "predict_proba", broken)
        with api(app, client.headers["Authorization"].split()[1]) as lenient:
            failed = predict(lenient, "fraud-500", {"inputs": ROWS})
            assert failed.status_code == 500
            assert failed.json()["error"]["details"]["request_id"] == failed.headers["x-request-id"]
            assert failed.headers["x-request-id"] in failed.json()["error"]["message"]
            assert predict(lenient, "fraud-500", {"inputs": ROWS}).status_code == 200


class TestReadiness:
    def test_a_corrupted_file_leaves_the_deployment_not_ready_with_the_reason(
        self, app: FastAPI, client: TestClient
    ) -> None:
        [v1] = build_model(app, name=unique("fraud"))
        store = kiln_state(app).store
        with database(app).unit_of_work() as session:
            from kiln.registry.files import version_files
            from kiln.registry.models import ModelVersion

            version = session.get(ModelVersion, v1.id)
            assert version is not None
            payload = next(f for f in version_files(session, v1.id) if f.path.endswith(".skops"))
            store.put_bytes(f"{version.storage_prefix}/{payload.path}", b"tampered")
        deploy(client, "fraud-bad", v1.model, version=1)
        refresh(app)

        answer = predict(client, "fraud-bad", {"inputs": ROWS})
        ready = client.get(f"{API}/deployments/fraud-bad/ready")
        shown = client.get(f"{API}/deployments/fraud-bad").json()

        assert answer.status_code == 503
        assert "not ready" in answer.json()["error"]["message"]
        assert ready.status_code == 503
        assert shown["readiness"]["ready"] is False
        assert "sha256" in shown["readiness"]["reason"] or "match" in shown["readiness"]["reason"]
        assert shown["readiness"]["pending"] is False  # it tried: waiting will not help

    def test_a_healthy_deployment_is_ready(self, app: FastAPI, client: TestClient) -> None:
        [v1] = build_model(app, name=unique("fraud"))
        created = deploy(client, "fraud-ok", v1.model, version=1)
        # Not loaded yet: worth waiting for (a failed load says pending False, with its reason).
        assert created["readiness"]["pending"] is True
        refresh(app)
        assert client.get(f"{API}/deployments/fraud-ok/ready").status_code == 200
        assert client.get(f"{API}/deployments/fraud-ok").json()["readiness"] == {
            "ready": True,
            "reason": None,
            "pending": False,
        }


class TestFollowing:
    def test_a_deployment_following_production_switches_after_a_promotion(self, app: FastAPI) -> None:
        v1, _v2 = build_model(app, versions=2, name=unique("fraud"))
        engineer, approver = person(app, Role.ml_engineer), person(app, Role.admin)
        with engineer.client, approver.client:
            to_production(engineer.client, approver.client, v1.model, 1)
            deploy(engineer.client, "fraud-prod", v1.model, stage="production")
            refresh(app)
            assert predict(engineer.client, "fraud-prod", {"inputs": ROWS}).json()["model"]["version"] == 1

            to_production(engineer.client, approver.client, v1.model, 2)
            refresh(app)

            shown = engineer.client.get(f"{API}/deployments/fraud-prod").json()
            assert shown["model"]["version"] == 2
            assert shown["follows"] == "production"
            assert predict(engineer.client, "fraud-prod", {"inputs": ROWS}).json()["model"]["version"] == 2

    def test_a_deployment_following_an_alias_moves_with_it(self, app: FastAPI, client: TestClient) -> None:
        v1, _ = build_model(app, versions=2, name=unique("fraud"))
        assert client.put(f"{API}/models/{v1.model}/aliases/champion", json={"version": 1}).status_code == 200
        deploy(client, "fraud-champ", v1.model, alias="champion")
        assert client.put(f"{API}/models/{v1.model}/aliases/champion", json={"version": 2}).status_code == 200
        assert client.get(f"{API}/deployments/fraud-champ").json()["model"]["version"] == 2


class TestTwoProcesses:
    def test_both_apps_see_a_deployment_change(
        self, app: FastAPI, client: TestClient, second_app: FastAPI
    ) -> None:
        v1, _ = build_model(app, versions=2, name=unique("fraud"))
        token = client.headers["Authorization"].split()[1]
        deploy(client, "fraud-both", v1.model, version=1)
        refresh(app)
        refresh(second_app)
        # Not entered as a context: no lifespan, so no refresh thread: the test polls by hand.
        other = api(second_app, token)
        assert predict(other, "fraud-both", {"inputs": ROWS}).json()["model"]["version"] == 1

        deploy(client, "fraud-both", v1.model, version=2)
        assert (
            predict(other, "fraud-both", {"inputs": ROWS}).json()["model"]["version"] == 1
        )  # until it polls
        assert refresh(second_app)  # the revision moved: the second process reloads
        assert not refresh(second_app)  # and only once
        assert predict(other, "fraud-both", {"inputs": ROWS}).json()["model"]["version"] == 2

        assert client.delete(f"{API}/deployments/fraud-both").json()["status"] == "stopped"
        assert refresh(second_app)
        assert predict(other, "fraud-both", {"inputs": ROWS}).status_code == 404


class TestAccess:
    def test_public_needs_no_key_and_private_needs_a_member(
        self, app: FastAPI, client: TestClient, anonymous_client: TestClient
    ) -> None:
        [v1] = build_model(app, name=unique("fraud"))
        deploy(client, "fraud-public", v1.model, version=1, public=True)
        deploy(client, "fraud-private", v1.model, version=1)
        refresh(app)
        outsider = make_account(app, role=Role.data_scientist)
        with database(app).unit_of_work() as session:
            make_project(session, unique("team-b"), members={outsider.id: Role.data_scientist.value})

        assert predict(anonymous_client, "fraud-public", {"inputs": ROWS}).status_code == 200
        assert predict(anonymous_client, "fraud-private", {"inputs": ROWS}).status_code == 401
        with api(app, open_session(app, outsider).access_token) as stranger:
            hidden = predict(stranger, "fraud-private", {"inputs": ROWS})
            assert hidden.status_code == 404
            assert hidden.json()["error"]["message"] == "deployment 'fraud-private' not found"
            assert stranger.get(f"{API}/deployments/fraud-private").status_code == 404
            assert stranger.get(f"{API}/deployments").json()["items"] == []

    def test_a_member_without_predictions_create_is_refused(self, app: FastAPI, client: TestClient) -> None:
        [v1] = build_model(app, name=unique("fraud"))
        deploy(client, "fraud-403", v1.model, version=1)
        refresh(app)
        auditor = person(app, "auditor")
        with auditor.client:
            assert predict(auditor.client, "fraud-403", {"inputs": ROWS}).status_code == 403


class TestDeployRules:
    def test_exactly_one_version_reference(self, app: FastAPI, client: TestClient) -> None:
        [v1] = build_model(app, name=unique("fraud"))
        both = client.put(
            f"{API}/deployments/x", json={"model": v1.model, "version": 1, "stage": "production"}
        )
        assert both.status_code == 422
        missing = client.put(f"{API}/deployments/x", json={"model": v1.model, "version": 9})
        assert missing.status_code == 404
        assert "version 9" in missing.json()["error"]["message"]
        bad_name = client.put(f"{API}/deployments/bad%20name", json={"model": v1.model, "version": 1})
        assert bad_name.status_code == 422

    def test_deploying_again_updates_and_lists(self, app: FastAPI, client: TestClient) -> None:
        v1, _ = build_model(app, versions=2, name=unique("fraud"))
        first = client.put(f"{API}/deployments/fraud-up", json={"model": v1.model, "version": 1})
        second = client.put(f"{API}/deployments/fraud-up", json={"model": v1.model, "version": 2})
        assert (first.status_code, second.status_code) == (201, 200)
        assert second.json()["revision"] > first.json()["revision"]
        listed = client.get(f"{API}/deployments").json()["items"]
        assert [(item["name"], item["model"]["version"]) for item in listed] == [("fraud-up", 2)]
        audit = client.get(f"{API}/audit", params={"action": "deployment.updated"})
        assert audit.status_code == 200


class TestConcurrentChanges:
    @pytest.mark.parametrize("existing", [True, False], ids=["update", "create"])
    def test_a_put_that_loses_a_race_is_a_409_saying_to_send_it_again(
        self, app: FastAPI, client: TestClient, existing: bool
    ) -> None:
        v1, _ = build_model(app, versions=2, name=unique("fraud"))
        if existing:
            deploy(client, "fraud-race", v1.model, version=1)
        db = database(app)
        raced: list[str] = []

        def another_put_commits_first(session: Session, *_: object) -> None:
            # This request has numbered its change and is about to write it; another one, with the
            # same number in mind, writes and commits just before it.
            if raced or not any(isinstance(row, Deployment) for row in [*session.new, *session.dirty]):
                return
            raced.append("done")
            with db.unit_of_work() as other:
                deployments.deploy(other, SYSTEM, "fraud-race", DeploymentSpec(model=v1.model, version=2))

        event.listen(db.sessionmaker, "before_flush", another_put_commits_first)
        try:
            lost = client.put(f"{API}/deployments/fraud-race", json={"model": v1.model, "version": 1})
        finally:
            event.remove(db.sessionmaker, "before_flush", another_put_commits_first)

        assert raced
        assert lost.status_code == 409, lost.text
        assert "send this request again" in error_of(lost)["message"]
        assert client.get(f"{API}/deployments/fraud-race").json()["model"]["version"] == 2
        again = client.put(f"{API}/deployments/fraud-race", json={"model": v1.model, "version": 1})
        assert again.status_code == 200
        assert again.json()["model"]["version"] == 1

    def test_a_follow_that_loses_the_revision_to_another_change_tries_again(
        self, app: FastAPI, client: TestClient
    ) -> None:
        v1, _ = build_model(app, versions=2, name=unique("fraud"))
        assert client.put(f"{API}/models/{v1.model}/aliases/champion", json={"version": 1}).status_code == 200
        deploy(client, "fraud-follow", v1.model, alias="champion")
        db = database(app)
        raced: list[int] = []

        def another_change_takes_the_revision(
            _conn: object, _cursor: object, statement: str, *_: object
        ) -> None:
            # The follower has numbered its move and is about to write it: a deploy elsewhere commits
            # that number first.
            if raced or not statement.lstrip().upper().startswith("UPDATE DEPLOYMENTS"):
                return
            with db.unit_of_work() as other:
                made, _ = deployments.deploy(
                    other, SYSTEM, "fraud-other", DeploymentSpec(model=v1.model, version=1)
                )
                raced.append(made.revision)

        event.listen(db.engine, "before_cursor_execute", another_change_takes_the_revision)
        try:
            moved = client.put(f"{API}/models/{v1.model}/aliases/champion", json={"version": 2})
        finally:
            event.remove(db.engine, "before_cursor_execute", another_change_takes_the_revision)

        assert moved.status_code == 200
        assert raced
        followed = client.get(f"{API}/deployments/fraud-follow").json()
        assert followed["model"]["version"] == 2
        assert followed["revision"] > raced[0]
