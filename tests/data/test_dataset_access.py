"""Datasets belong to a project: non-members get 404 for every read and write; definitions are checked."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.auth.permissions import Role
from tests.api import API, error_of
from tests.builders.auth import access_token, api, make_account, make_project
from tests.builders.datasets import batch, create_telemetry, csv_bytes, telemetry_body, upload, upload_frame


def test_a_non_member_gets_not_found_everywhere(app: FastAPI, client: TestClient) -> None:
    create_telemetry(client)
    upload_frame(client, batch(24, seed=1))
    outsider = make_account(app, role=Role.data_scientist)
    with kiln_state(app).db.unit_of_work() as session:
        make_project(session, members={outsider.id: Role.data_scientist.value})
    with api(app, access_token(app, outsider)) as theirs:
        for path in [
            "/datasets/telemetry",
            "/datasets/telemetry/versions",
            "/datasets/telemetry/versions/1",
            "/datasets/telemetry/versions/1/download",
            "/datasets/telemetry/diff?from=1&to=1",
        ]:
            response = theirs.get(f"{API}{path}")
            assert response.status_code == 404, path
            assert error_of(response)["message"] == "dataset 'telemetry' not found"
        assert theirs.get(f"{API}/datasets").json()["items"] == []
        assert theirs.patch(f"{API}/datasets/telemetry", json={"description": "mine"}).status_code == 404
        assert upload(theirs, csv_bytes(batch(24, seed=2))).status_code == 404


def test_a_viewer_reads_but_cannot_upload(app: FastAPI, client: TestClient) -> None:
    create_telemetry(client)
    viewer = make_account(app, role=Role.viewer, project_role=Role.viewer)
    with api(app, access_token(app, viewer)) as theirs:
        assert theirs.get(f"{API}/datasets/telemetry").status_code == 200
        assert upload(theirs, csv_bytes(batch(24, seed=2))).status_code == 403


class TestDefinitions:
    def test_names_are_unique_in_a_project(self, client: TestClient) -> None:
        create_telemetry(client)
        again = client.post(f"{API}/datasets", json=telemetry_body())
        assert again.status_code == 409
        assert "dataset 'telemetry' exists in project 'default'" in error_of(again)["message"]

    def test_rules_that_do_not_fit_the_schema_are_refused(self, client: TestClient) -> None:
        body = telemetry_body(
            rules={"rules": [{"kind": "range", "name": "fast", "column": "site", "maximum": 3}]}
        )
        response = client.post(f"{API}/datasets", json=body)
        assert response.status_code == 422
        assert "rule fast bounds `site`" in error_of(response)["message"]

    def test_patch_changes_what_the_next_version_is_judged_by(self, client: TestClient) -> None:
        create_telemetry(client)
        patched = client.patch(
            f"{API}/datasets/telemetry",
            json={
                "description": "v2 feed",
                "rules": {
                    "rules": [{"kind": "expression", "name": "slow", "expression": "latency_ms > 1000"}]
                },
            },
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["description"] == "v2 feed"
        version = upload_frame(client, batch(24, seed=1))
        assert version["rows"] == 0
        assert version["quarantine"]["by_reason"] == [
            {"check": "expression", "column": "latency_ms", "rule": "slow", "rows": 24}
        ]

    def test_a_dataset_name_that_cannot_be_referenced_is_refused(self, client: TestClient) -> None:
        response = client.post(f"{API}/datasets", json=telemetry_body("tele@metry"))
        assert response.status_code == 422
