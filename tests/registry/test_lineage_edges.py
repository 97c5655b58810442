"""Registering a version records where it came from in lineage: the run it was registered from (and,
through the run, the data it was trained on), or the uploaded file; the version is a described node."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.storage.store import ArtifactStore
from kiln.tracking.schemas import RunInputCreate
from tests.api import API
from tests.builders.auth import api, make_account, open_session
from tests.builders.registry import fitted_forest, save_folder, save_run_model
from tests.builders.tracking import make_run
from tests.registry.api import register_run, upload, zip_folder
from tests.registry.conftest import Committed


def lineage(client: TestClient, kind: str, ident: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}/lineage/{kind}/{ident}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def trained_run(committed: Committed, store: ArtifactStore) -> str:
    estimator, X = fitted_forest()
    with committed() as session:
        run = make_run(
            session,
            name="forest-7",
            inputs=[RunInputCreate(name="transactions", version="3", digest="sha256:abc")],
        )
        save_run_model(session, store, run, estimator, X)
        return run.id


class TestFromARun:
    def test_the_version_shows_its_run_and_the_runs_data_upstream(
        self, client: TestClient, committed: Committed, store: ArtifactStore
    ) -> None:
        run_id = trained_run(committed, store)
        version = register_run(client, "fraud_detector", run_id, label="1.0.0")

        graph = lineage(client, "model_version", version["id"], direction="upstream", depth=2)

        nodes = {(node["kind"], node["id"]): node for node in graph["nodes"]}
        root = nodes[("model_version", version["id"])]
        assert (root["label"], root["url"], root["level"]) == (
            "fraud_detector v1 (1.0.0)",
            "/models/fraud_detector/versions/1",
            0,
        )
        run = nodes[("run", run_id)]
        assert (run["label"], run["url"], run["level"]) == ("forest-7", f"/runs/{run_id}", -1)
        assert nodes[("dataset_version", "transactions@3")]["level"] == -2
        [edge] = [e for e in graph["edges"] if e["target"]["kind"] == "model_version"]
        assert edge["source"] == {"kind": "run", "id": run_id}
        assert edge["relation"] == "registered_from"
        assert edge["attributes"] == {"source": f"runs:/{run_id}/model"}

    def test_the_run_shows_the_version_downstream(
        self, client: TestClient, committed: Committed, store: ArtifactStore
    ) -> None:
        run_id = trained_run(committed, store)
        version = register_run(client, "fraud_detector", run_id)

        graph = lineage(client, "run", run_id, direction="downstream")

        [downstream] = [node for node in graph["nodes"] if node["level"] == 1]
        assert (downstream["id"], downstream["label"]) == (version["id"], "fraud_detector v1")

    def test_a_non_member_cannot_walk_from_the_version(
        self, app: FastAPI, client: TestClient, committed: Committed, store: ArtifactStore
    ) -> None:
        version = register_run(client, "fraud_detector", trained_run(committed, store))
        outsider = make_account(app, role=Role.ml_engineer)  # a member of no project

        with api(app, open_session(app, outsider).access_token) as theirs:
            response = theirs.get(f"{API}/lineage/model_version/{version['id']}")

        assert response.status_code == 404
        assert version["id"] in response.json()["error"]["message"]


class TestFromAnUpload:
    def test_an_uploaded_version_comes_from_a_source_named_by_its_file_and_bytes(
        self, client: TestClient
    ) -> None:
        folder = save_folder(*fitted_forest())
        digest = hashlib.sha256((folder / "model.skops").read_bytes()).hexdigest()
        version = upload(client, "fraud_detector", zip_folder(folder), "fraud.zip")

        graph = lineage(client, "model_version", version["id"], direction="upstream")

        [source] = [node for node in graph["nodes"] if node["level"] == -1]
        assert source["kind"] == "source"
        assert source["id"] == f"{version['source']}:fraud.zip@{digest[:12]}"
        [edge] = graph["edges"]
        assert edge["relation"] == "registered_from"
        assert edge["attributes"] == {"file": "fraud.zip", "sha256": digest}
