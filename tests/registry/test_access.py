"""Models belong to a project: non-members see nothing (404), viewers read but cannot register (403)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.storage.store import ArtifactStore
from tests.api import API, error_of
from tests.builders.auth import access_token, api, make_account, make_project
from tests.builders.registry import make_version_from_run
from tests.registry.conftest import Committed


def test_a_non_member_gets_not_found_for_every_read(
    app: FastAPI, committed: Committed, store: ArtifactStore
) -> None:
    with committed() as session:
        make_version_from_run(session, store, label="1.0.0")
    outsider = make_account(app, role=Role.ml_engineer)
    with committed() as session:
        make_project(session, members={outsider.id: Role.ml_engineer.value})
    with api(app, access_token(app, outsider)) as client:
        for path in [
            "/models/fraud_detector",
            "/models/fraud_detector/versions",
            "/models/fraud_detector/versions/1",
            "/models/fraud_detector/versions/1.0.0/files/model.skops",
            "/models/fraud_detector/versions/1/download",
        ]:
            response = client.get(f"{API}{path}")
            assert response.status_code == 404, path
            assert "fraud_detector" in error_of(response)["message"]
        assert client.get(f"{API}/models").json()["items"] == []
        assert client.get(f"{API}/models/search", params={"filter": "number > 0"}).json()["items"] == []
        patched = client.patch(f"{API}/models/fraud_detector", json={"description": "mine now"})
        assert patched.status_code == 404


def test_a_viewer_reads_but_cannot_register(app: FastAPI, committed: Committed, store: ArtifactStore) -> None:
    with committed() as session:
        version = make_version_from_run(session, store)
        run_id = version.source_run_id
    viewer = make_account(app, role=Role.viewer, project_role=Role.viewer)
    with api(app, access_token(app, viewer)) as client:
        assert client.get(f"{API}/models/fraud_detector/versions/1").status_code == 200
        refused = client.post(
            f"{API}/models/fraud_detector/versions", json={"source": f"runs:/{run_id}/model"}
        )
        assert refused.status_code == 403
        refused = client.post(
            f"{API}/models/fraud_detector/versions/upload", files={"file": ("model.skops", b"x")}
        )
        assert refused.status_code == 403
        assert client.post(f"{API}/models", json={"name": "mine"}).status_code == 403


def test_model_names_are_unique_in_a_project(client: TestClient) -> None:
    assert (
        client.post(f"{API}/models", json={"name": "fraud_detector", "description": "d"}).status_code == 201
    )
    again = client.post(f"{API}/models", json={"name": "fraud_detector"})
    assert again.status_code == 409
    assert "new version" in error_of(again)["message"]
    bad = client.post(f"{API}/models", json={"name": "has/slash"})
    assert bad.status_code == 422
