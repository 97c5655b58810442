"""Registering versions from a run and by upload: stored, numbered, checksummed; refusals store nothing."""

from __future__ import annotations

import hashlib
import pickle
import re
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import create_app, kiln_state
from kiln.storage.store import ArtifactStore
from tests.api import API, error_of
from tests.builders.auth import admin_client
from tests.builders.registry import fitted_forest, save_folder, save_run_model
from tests.builders.tracking import make_run
from tests.registry.api import register_run, upload, zip_folder
from tests.registry.conftest import Committed, model_objects, version_rows

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
INPUTS = [
    {"name": "amount", "type": "number", "minimum": 0, "description": "in euros"},
    {"name": "hour", "type": "integer", "minimum": 0, "maximum": 23, "default": 12},
    {"name": "distance", "type": "number", "required": False, "default": 0.0},
]


def run_with_model(committed: Committed, store: ArtifactStore, **run_fields: object) -> str:
    estimator, X = fitted_forest(n_estimators=int(run_fields.pop("n_estimators", 50)))  # type: ignore[call-overload]
    with committed() as session:
        run = make_run(session, **run_fields)  # type: ignore[arg-type]
        save_run_model(session, store, run, estimator, X)
        return run.id


class TestRegisterFromRun:
    def test_an_isolation_forest_is_stored_with_checksums(
        self, client: TestClient, committed: Committed, store: ArtifactStore
    ) -> None:
        run_id = run_with_model(committed, store, params={"n_estimators": 50})
        version = register_run(client, "fraud_detector", run_id, label="1.0.0")

        assert UUID.match(version["id"])
        assert (version["model_name"], version["number"], version["label"]) == ("fraud_detector", 1, "1.0.0")
        assert (version["stage"], version["status"]) == ("development", "ready")
        assert version["flavor"] == "sklearn"
        assert version["serialization"] == "skops"
        assert version["estimator_class"].endswith("IsolationForest")
        assert version["source"] == f"runs:/{run_id}/model"
        assert version["source_run_id"] == run_id
        paths = ["example-answer.json", "model.skops", "reference-sample.json"]
        assert [f["path"] for f in version["files"]] == paths
        stored = model_objects(store)
        prefix = f"{version['model_id']}/versions/{version['id']}"
        assert stored == [f"{prefix}/{path}" for path in paths]
        on_disk = (Path(store.root) / "models" / stored[1]).read_bytes()
        assert version["files"][1]["sha256"] == hashlib.sha256(on_disk).hexdigest()
        assert version["files"][1]["size"] == len(on_disk)
        assert [field["name"] for field in version["signature"]["inputs"]] == ["amount", "hour", "distance"]

        again = client.get(f"{API}/models/fraud_detector/versions/1.0.0").json()
        assert again["id"] == version["id"]
        model = client.get(f"{API}/models/fraud_detector").json()
        assert (model["latest_version"], model["version_count"]) == (1, 1)

    def test_the_runs_params_metrics_and_inputs_are_kept(
        self, client: TestClient, committed: Committed, store: ArtifactStore
    ) -> None:
        run_id = run_with_model(
            committed,
            store,
            params={"n_estimators": 50, "contamination": "auto"},
            metrics={"auc": 0.93},
            inputs=[{"name": "transactions", "version": "7", "digest": "abc"}],
        )
        version = register_run(client, "fraud_detector", run_id)
        assert version["params"] == {"n_estimators": "50", "contamination": "auto"}
        assert version["metrics"] == {"auc": 0.93}
        assert version["training_inputs"][0]["name"] == "transactions"
        assert version["label"] is None

    def test_numbers_count_up(self, client: TestClient, committed: Committed, store: ArtifactStore) -> None:
        numbers = [
            register_run(client, "fraud_detector", run_with_model(committed, store))["number"]
            for _ in range(3)
        ]
        assert numbers == [1, 2, 3]

    def test_a_duplicate_label_is_a_conflict_naming_the_next_free_label_and_stores_nothing(
        self, client: TestClient, committed: Committed, store: ArtifactStore
    ) -> None:
        register_run(client, "fraud_detector", run_with_model(committed, store), label="1.0.0")
        before = (version_rows(committed), model_objects(store))

        second = run_with_model(committed, store)
        refused = client.post(
            f"{API}/models/fraud_detector/versions",
            json={"source": f"runs:/{second}/model", "label": "1.0.0"},
        )
        assert refused.status_code == 409
        error = error_of(refused)
        assert "1.0.0" in error["message"]
        assert "'1.0.1'" in error["message"]
        assert error["details"]["suggested_label"] == "1.0.1"
        assert (version_rows(committed), model_objects(store)) == before
        # The number was not spent either.
        assert register_run(client, "fraud_detector", second, label="1.0.1")["number"] == 2

    def test_a_run_without_a_model_folder_says_how_to_save_one(
        self, client: TestClient, committed: Committed, nothing_left: Callable[[], None]
    ) -> None:
        with committed() as session:
            run_id = make_run(session).id
        refused = client.post(
            f"{API}/models/fraud_detector/versions", json={"source": f"runs:/{run_id}/model"}
        )
        assert refused.status_code == 400
        assert "save_model" in error_of(refused)["message"]
        nothing_left()

    def test_an_unknown_run_is_not_found(self, client: TestClient) -> None:
        refused = client.post(f"{API}/models/fraud_detector/versions", json={"source": "runs:/nope/model"})
        assert refused.status_code == 404
        assert "nope" in error_of(refused)["message"]


class TestRegisterByUpload:
    def test_an_upload_is_a_draft_until_finished(self, client: TestClient) -> None:
        estimator, X = fitted_forest()
        payload = (save_folder(estimator, X) / "model.skops").read_bytes()
        draft = upload(
            client,
            "fraud_detector",
            payload,
            "model.skops",
            label="1.0.0",
            inputs=INPUTS,
            description="first cut",
        )
        assert (draft["status"], draft["stage"], draft["description"]) == (
            "draft",
            "development",
            "first cut",
        )
        hour = draft["signature"]["inputs"][1]
        assert (hour["name"], hour["type"], hour["minimum"], hour["maximum"], hour["default"]) == (
            "hour",
            "integer",
            0,
            23,
            12,
        )
        assert draft["files"][0]["sha256"] == hashlib.sha256(payload).hexdigest()

        finished = client.post(f"{API}/models/fraud_detector/versions/1.0.0/finish")
        assert finished.status_code == 200, finished.text
        assert finished.json()["status"] == "ready"
        again = client.post(f"{API}/models/fraud_detector/versions/1.0.0/finish")
        assert again.status_code == 409

    def test_a_draft_without_inputs_cannot_be_finished_until_they_are_described(
        self, client: TestClient
    ) -> None:
        estimator, X = fitted_forest()
        payload = (save_folder(estimator, X) / "model.skops").read_bytes()
        upload(client, "fraud_detector", payload, "model.skops")
        refused = client.post(f"{API}/models/fraud_detector/versions/1/finish")
        assert refused.status_code == 400
        assert "describe the inputs" in error_of(refused)["message"]
        described = client.patch(
            f"{API}/models/fraud_detector/versions/1", json={"signature": {"inputs": INPUTS}}
        )
        assert described.status_code == 200, described.text
        assert client.post(f"{API}/models/fraud_detector/versions/1/finish").status_code == 200

    def test_a_zipped_model_folder_registers_ready(self, client: TestClient) -> None:
        estimator, X = fitted_forest()
        version = upload(
            client, "fraud_detector", zip_folder(save_folder(estimator, X)), "model.zip", draft=False
        )
        assert version["status"] == "ready"
        assert version["signature"]["inputs"][0]["name"] == "amount"

    def test_a_pickle_is_refused_without_the_trust_setting(
        self, client: TestClient, nothing_left: Callable[[], None]
    ) -> None:
        payload = pickle.dumps({"not": "a model"})
        refused = client.post(
            f"{API}/models/fraud_detector/versions/upload", files={"file": ("model.pkl", payload)}
        )
        assert refused.status_code == 400
        error = error_of(refused)
        assert "KILN_TRUST_PICKLE" in error["message"]
        assert "runs whatever code" in error["message"]
        assert (error["code"], error["details"]["serialization"]) == ("untrusted_payload", "pickle")
        nothing_left()

    def test_a_pickle_is_accepted_where_the_server_trusts_it(self, app: FastAPI) -> None:
        trusting = create_app(
            kiln_state(app).settings.with_sections(registry={"trust_pickle": True}), migrate=False
        )
        try:
            estimator, _ = fitted_forest()
            with admin_client(trusting) as client:
                version = upload(client, "legacy", pickle.dumps(estimator), "model.pkl", inputs=INPUTS)
                assert version["serialization"] == "pickle"
        finally:
            kiln_state(trusting).db.dispose()

    def test_a_truncated_model_file_is_refused_naming_it(
        self, client: TestClient, nothing_left: Callable[[], None]
    ) -> None:
        estimator, X = fitted_forest()
        payload = (save_folder(estimator, X) / "model.skops").read_bytes()
        refused = client.post(
            f"{API}/models/fraud_detector/versions/upload",
            files={"file": ("model.skops", payload[: len(payload) // 2])},
        )
        assert refused.status_code == 400
        assert "'model.skops' is not a readable skops file" in error_of(refused)["message"]
        nothing_left()

    def test_a_file_that_is_not_a_model_is_refused(
        self, client: TestClient, nothing_left: Callable[[], None]
    ) -> None:
        for name, content in [("notes.txt", b"hello"), ("model.zip", b"not a zip"), ("model.skops", b"text")]:
            refused = client.post(
                f"{API}/models/fraud_detector/versions/upload", files={"file": (name, content)}
            )
            assert refused.status_code == 400, name
            assert error_of(refused)["message"]
        nothing_left()

    def test_a_folder_whose_file_changed_after_saving_is_refused(
        self, client: TestClient, nothing_left: Callable[[], None]
    ) -> None:
        estimator, X = fitted_forest()
        folder = save_folder(estimator, X)
        other, _ = fitted_forest(seed=1)
        (folder / "model.skops").write_bytes((save_folder(other, X) / "model.skops").read_bytes())
        refused = client.post(
            f"{API}/models/fraud_detector/versions/upload", files={"file": ("m.zip", zip_folder(folder))}
        )
        assert refused.status_code == 400
        assert "'model.skops' does not match the sha256" in error_of(refused)["message"]
        nothing_left()

    def test_an_oversized_model_file_is_refused(self, app: FastAPI) -> None:
        small = create_app(
            kiln_state(app).settings.with_sections(registry={"max_model_file_bytes": 1000}), migrate=False
        )
        try:
            with admin_client(small) as client:
                estimator, X = fitted_forest()
                payload = (save_folder(estimator, X) / "model.skops").read_bytes()
                refused = client.post(
                    f"{API}/models/big/versions/upload", files={"file": ("model.skops", payload)}
                )
                assert refused.status_code == 413
                assert "KILN_MAX_MODEL_FILE_BYTES" in error_of(refused)["message"]
        finally:
            kiln_state(small).db.dispose()

    def test_a_bad_label_says_what_a_label_may_hold(self, client: TestClient) -> None:
        for label in ["7", "production", "a b"]:
            refused = client.post(
                f"{API}/models/m/versions/upload",
                files={"file": ("model.skops", b"x")},
                data={"label": label},
            )
            assert refused.status_code == 400, label
