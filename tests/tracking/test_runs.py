"""Runs: creation (names, users, parents) and status changes, over HTTP and in the service."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from kiln.app import kiln_state
from kiln.auth.api_keys import create_api_key
from kiln.auth.projects import ensure_default_project
from kiln.auth.schemas import ApiKeyCreate
from kiln.auth.service import user_actor
from kiln.core.db import Database
from kiln.core.errors import Invalid, InvalidState, NotFound
from kiln.tracking import service
from kiln.tracking.models import Run
from kiln.tracking.schemas import RunCreate, RunStatus, RunUpdate
from tests.api import error_of
from tests.builders import TEST_ACTOR, bearer, make_experiment, make_run, make_user_token
from tests.builders.audit import audit_records
from tests.builders.auth import make_project, make_user
from tests.tracking.api import API, create_experiment, create_run, finish_run, get_run


def make_other_project(app: FastAPI) -> str:
    """A project the test's data scientist is not a member of; returns its name."""
    db: Database = kiln_state(app).db
    with db.unit_of_work() as session:
        return make_project(session).name


class TestCreateRun:
    def test_defaults_name_status_and_the_authenticated_user(self, client: TestClient) -> None:
        experiment = create_experiment(client)

        response = client.post(f"{API}/runs", json={"experiment_id": experiment["id"]})

        assert response.status_code == 201
        run = response.json()
        assert run["name"] == f"run-{run['id'][-8:]}"
        assert run["status"] == "running"
        assert run["end_time"] is None
        assert run["user"] == "admin@kiln.test"
        assert run["experiment_id"] == experiment["id"]
        # Relative to the server's artifact store: the server's disk layout is nobody's business.
        assert run["artifact_uri"] == f"runs/{run['id']}/artifacts"

    def test_an_old_absolute_artifact_path_is_shown_store_relative(
        self, client: TestClient, app: FastAPI
    ) -> None:
        run = create_run(client)
        db: Database = kiln_state(app).db
        with db.unit_of_work() as session:
            session.execute(
                update(Run)
                .where(Run.id == run["id"])
                .values(artifact_uri=f"/srv/kiln/runs/{run['id']}/artifacts")
            )

        assert get_run(client, run["id"])["artifact_uri"] == f"runs/{run['id']}/artifacts"

    def test_explicit_fields_are_kept(self, client: TestClient) -> None:
        run = create_run(
            client,
            name="baseline",
            source="train.py",
            start_time="2024-05-01T12:00:00Z",
            tags={"team": "risk"},
            inputs=[{"name": "transactions", "version": "3", "digest": "abc"}],
        )

        stored = get_run(client, run["id"])
        assert stored["name"] == "baseline"
        assert stored["user"] == "admin@kiln.test"
        assert stored["source"] == "train.py"
        assert datetime.fromisoformat(stored["start_time"]) == datetime.fromisoformat(
            "2024-05-01T12:00:00+00:00"
        )
        assert stored["tags"] == {"team": "risk"}
        assert stored["inputs"] == [
            {"kind": "dataset", "name": "transactions", "version": "3", "digest": "abc", "uri": ""}
        ]

    def test_a_declared_user_is_refused(self, client: TestClient) -> None:
        # Runs record who is authenticated; a client cannot claim to be someone else.
        experiment = create_experiment(client)
        response = client.post(f"{API}/runs", json={"experiment_id": experiment["id"], "user": "mallory"})
        assert response.status_code == 422

    def test_unknown_experiment_is_404(self, client: TestClient) -> None:
        response = client.post(f"{API}/runs", json={"experiment_id": "ghost-experiment"})

        assert response.status_code == 404
        assert "ghost-experiment" in error_of(response)["message"]

    def test_parent_run_must_exist(self, client: TestClient) -> None:
        experiment = create_experiment(client)

        response = client.post(
            f"{API}/runs", json={"experiment_id": experiment["id"], "parent_run_id": "ghost-run"}
        )

        assert response.status_code == 404
        assert "ghost-run" in error_of(response)["message"]

    def test_a_parent_in_another_project_answers_like_a_missing_one(
        self, client: TestClient, app: FastAPI
    ) -> None:
        hidden_parent = create_run(client, create_experiment(client, project=make_other_project(app))["id"])
        member = TestClient(app, headers=bearer(make_user_token(app, "ds@kiln.test", role="data_scientist")))
        mine = create_experiment(member)

        hidden = member.post(
            f"{API}/runs", json={"experiment_id": mine["id"], "parent_run_id": hidden_parent["id"]}
        )
        missing = member.post(f"{API}/runs", json={"experiment_id": mine["id"], "parent_run_id": "ghost-run"})

        assert (hidden.status_code, missing.status_code) == (404, 404)
        assert error_of(hidden)["message"] == error_of(missing)["message"].replace(
            "ghost-run", hidden_parent["id"]
        )

    def test_parent_run_in_another_experiment_is_refused(self, client: TestClient) -> None:
        parent = create_run(client)
        other = create_experiment(client)

        response = client.post(
            f"{API}/runs", json={"experiment_id": other["id"], "parent_run_id": parent["id"]}
        )

        assert response.status_code == 400
        assert "parent" in error_of(response)["message"]

    def test_child_run_records_its_parent(self, client: TestClient) -> None:
        parent = create_run(client)

        child = create_run(client, parent["experiment_id"], parent_run_id=parent["id"])

        assert get_run(client, child["id"])["parent_run_id"] == parent["id"]

    def test_environment_is_returned_by_the_detail_only(self, client: TestClient) -> None:
        run = create_run(client, environment={"python": "3.12.1"})

        assert get_run(client, run["id"])["environment"] == {"python": "3.12.1"}
        listed = client.get(f"{API}/runs").json()["items"][0]
        assert "environment" not in listed


class TestCreateRunRules:
    def test_parent_from_another_experiment_is_invalid(self, session: Session) -> None:
        parent = make_run(session)
        other = make_experiment(session)

        with pytest.raises(Invalid):
            service.create_run(
                session,
                TEST_ACTOR,
                RunCreate(experiment_id=other.id, parent_run_id=parent.id),
                artifact_root_url="/tmp/a",
            )

    def test_missing_parent_is_not_found(self, session: Session) -> None:
        experiment = make_experiment(session)

        with pytest.raises(NotFound, match="nope"):
            service.create_run(
                session,
                TEST_ACTOR,
                RunCreate(experiment_id=experiment.id, parent_run_id="nope"),
                artifact_root_url="/tmp/a",
            )

    def test_user_defaults_to_the_actor(self, session: Session) -> None:
        assert make_run(session).user == TEST_ACTOR.label


class TestRunStatus:
    def test_finishing_sets_the_end_time(self, client: TestClient) -> None:
        run = create_run(client)

        finished = finish_run(client, run["id"])

        assert finished["status"] == "finished"
        assert finished["end_time"] is not None
        assert datetime.fromisoformat(finished["end_time"]) >= datetime.fromisoformat(run["start_time"])
        assert get_run(client, run["id"])["end_time"] == finished["end_time"]

    def test_explicit_end_time_is_kept(self, client: TestClient) -> None:
        run = create_run(client)

        response = client.patch(
            f"{API}/runs/{run['id']}", json={"status": "failed", "end_time": "2030-01-01T00:00:00Z"}
        )

        assert response.json()["status"] == "failed"
        assert datetime.fromisoformat(response.json()["end_time"]) == datetime.fromisoformat(
            "2030-01-01T00:00:00+00:00"
        )

    @pytest.mark.parametrize("terminal", ["finished", "failed", "killed"])
    def test_a_terminal_run_cannot_run_again(self, client: TestClient, terminal: str) -> None:
        run = create_run(client)
        finish_run(client, run["id"], terminal)

        response = client.patch(f"{API}/runs/{run['id']}", json={"status": "running"})

        assert response.status_code == 409
        error = error_of(response)
        assert error["code"] == "invalid_state"
        assert terminal in error["message"]
        assert get_run(client, run["id"])["status"] == terminal

    def test_finished_cannot_become_failed(self, client: TestClient) -> None:
        run = create_run(client)
        finish_run(client, run["id"])

        response = client.patch(f"{API}/runs/{run['id']}", json={"status": "failed"})

        assert response.status_code == 409
        assert error_of(response)["code"] == "invalid_state"

    def test_repeating_the_same_status_is_harmless(self, client: TestClient) -> None:
        run = create_run(client)
        first = finish_run(client, run["id"])

        again = finish_run(client, run["id"])

        assert again["end_time"] == first["end_time"]

    def test_rename(self, client: TestClient) -> None:
        run = create_run(client)

        assert client.patch(f"{API}/runs/{run['id']}", json={"name": "renamed"}).json()["name"] == "renamed"

    def test_unknown_status_is_422(self, client: TestClient) -> None:
        run = create_run(client)

        response = client.patch(f"{API}/runs/{run['id']}", json={"status": "paused"})

        assert response.status_code == 422
        assert "status" in error_of(response)["message"]

    def test_service_refuses_to_restart(self, session: Session) -> None:
        run = make_run(session)
        service.update_run(session, TEST_ACTOR, run.id, RunUpdate(status=RunStatus.killed))

        with pytest.raises(InvalidState):
            service.update_run(session, TEST_ACTOR, run.id, RunUpdate(status=RunStatus.running))


UNKNOWN_RUN_CALLS: list[tuple[str, str, dict[str, object] | None]] = [
    ("GET", "", None),
    ("PATCH", "", {"status": "finished"}),
    ("POST", "/batch", {"metrics": [{"key": "a", "value": 1}]}),
    ("POST", "/metrics", {"key": "a", "value": 1}),
    ("POST", "/params", {"key": "a", "value": "1"}),
    ("POST", "/tags", {"key": "a", "value": "1"}),
    ("GET", "/reproduce", None),
    ("GET", "/artifacts", None),
]


class TestUnknownRun:
    def test_every_endpoint_is_404_naming_the_run(self, client: TestClient) -> None:
        responses = {
            f"{method} {suffix}": client.request(method, f"{API}/runs/ghost-run{suffix}", json=body)
            for method, suffix, body in UNKNOWN_RUN_CALLS
        }

        assert {call: r.status_code for call, r in responses.items() if r.status_code != 404} == {}
        for response in responses.values():
            error = error_of(response)
            assert error["code"] == "not_found"
            assert "ghost-run" in error["message"]


def test_a_run_made_by_a_key_with_a_long_label_records_it_cut_not_refused(app: FastAPI) -> None:
    long_email = f"{'a' * 60}@{'b' * 60}.{'c' * 60}.{'d' * 50}.kiln.test"
    with kiln_state(app).db.unit_of_work() as session:
        user = make_user(session, long_email, role="data_scientist", project_role="data_scientist")
        project_id = ensure_default_project(session).id
        _, key = create_api_key(
            session,
            user_actor(user),
            ApiKeyCreate(name="k" * 128, project_id=project_id, role="data_scientist"),
            max_days=30,
        )
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as keyed:
        experiment = keyed.post(f"{API}/experiments", json={"name": "long-labels"})
        assert experiment.status_code == 201, experiment.text
        run = keyed.post(f"{API}/runs", json={"experiment_id": experiment.json()["id"]})
    assert run.status_code == 201, run.text
    recorded = run.json()["user"]
    assert recorded.startswith(long_email)
    assert len(recorded) == 256
    assert recorded.endswith("…")


class TestTheRunRequestsOfATrainingScript:
    """Create, batch and finish are answered from Kiln's ASGI layer (tracking/direct_routes.py):
    what a client sees and what is recorded is what every other route gives."""

    def test_their_audit_records_carry_the_request_id_and_the_answers_echo_it(
        self, client: TestClient, app: FastAPI
    ) -> None:
        experiment = create_experiment(client)
        created = client.post(
            f"{API}/runs", json={"experiment_id": experiment["id"]}, headers={"x-request-id": "ci-create"}
        )
        run_id = created.json()["id"]
        batch = client.post(
            f"{API}/runs/{run_id}/batch",
            json={"params": [{"key": "seed", "value": "7"}], "metrics": [{"key": "loss", "value": 0.5}]},
        )
        finished = client.patch(
            f"{API}/runs/{run_id}", json={"status": "finished"}, headers={"x-request-id": "ci-finish"}
        )

        assert created.headers["x-request-id"] == "ci-create"
        assert batch.json() == {"metrics": 1, "params": 1, "tags": 0}
        assert finished.json()["params"] == {"seed": "7"}
        assert finished.json()["metrics"] == {"loss": 0.5}
        assert finished.json()["status"] == "finished"
        records = {r.action: r.request_id for r in audit_records(app) if r.target_id == run_id}
        assert records == {"run.created": "ci-create", "run.updated": "ci-finish"}

    def test_a_viewer_is_refused_and_a_missing_credential_is_401(
        self, client: TestClient, app: FastAPI
    ) -> None:
        experiment = create_experiment(client)
        viewer = bearer(make_user_token(app, "viewer-direct@kiln.test", role="viewer"))
        refused = client.post(f"{API}/runs", json={"experiment_id": experiment["id"]}, headers=viewer)
        anonymous = client.post(
            f"{API}/runs", json={"experiment_id": experiment["id"]}, headers={"authorization": ""}
        )

        assert refused.status_code == 403
        assert error_of(refused)["code"] == "permission_denied"
        assert anonymous.status_code == 401


class TestAnotherProjectsRuns:
    """The three routes a training script calls per run answer a non-member as if the run did not exist."""

    def test_create_log_and_finish_are_404_and_change_nothing(self, client: TestClient, app: FastAPI) -> None:
        hidden_experiment = create_experiment(client, project=make_other_project(app))
        hidden = create_run(client, hidden_experiment["id"])
        member = TestClient(app, headers=bearer(make_user_token(app, "ds@kiln.test", role="data_scientist")))

        created = member.post(f"{API}/runs", json={"experiment_id": hidden_experiment["id"]})
        logged = member.post(
            f"{API}/runs/{hidden['id']}/batch", json={"metrics": [{"key": "loss", "value": 0.5}]}
        )
        finished = member.patch(f"{API}/runs/{hidden['id']}", json={"status": "finished"})

        assert (created.status_code, logged.status_code, finished.status_code) == (404, 404, 404)
        after = get_run(client, hidden["id"])
        assert after["status"] == "running"
        assert after["metrics"] == {}
