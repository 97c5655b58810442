"""What a run leaves where people look: models as step outputs, child tracking runs, lineage edges."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from examples import pipelines as examples
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.pipelines.spec import PipelineSpec
from kiln.pipelines.yaml_spec import spec_from_yaml
from tests.api import API
from tests.builders.datasets import batch, create_telemetry, upload_frame
from tests.builders.pipelines import read_run, register, run_jobs, start_run, steps_by_name


def _child_runs(client: TestClient, parent_id: str) -> dict[str, dict[str, Any]]:
    parent = client.get(f"{API}/runs/{parent_id}").json()
    found = client.get(
        f"{API}/runs",
        params={"experiment_id": parent["experiment_id"], "filter": f"parent_run_id = '{parent_id}'"},
    )
    assert found.status_code == 200, found.text
    return {run["name"]: client.get(f"{API}/runs/{run['id']}").json() for run in found.json()["items"]}


def _lineage(client: TestClient, kind: str, ident: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}/lineage/{kind}/{ident}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _classifier_run(app: FastAPI, client: TestClient) -> dict[str, Any]:
    register(client, examples.classifier)
    run = start_run(client, "classifier", rows=300, c=0.5)
    run_jobs(app)
    done = read_run(client, "classifier", run["id"])
    assert done["state"] == "succeeded", done
    return done


class TestModelOutputs:
    def test_a_returned_model_is_stored_as_a_model_folder_and_loaded_downstream(
        self, app: FastAPI, client: TestClient
    ) -> None:
        done = _classifier_run(app, client)
        steps = steps_by_name(done)
        output = steps["fit_classifier"]["output"]
        assert output["format"] == "model"
        assert output["estimator_class"].endswith("LogisticRegression")
        assert {item["path"] for item in output["files"]} >= {"model.skops"}
        logs = client.get(f"{API}/pipelines/classifier/runs/{done['id']}/logs").json()
        assert all("Traceback" not in line for step in logs for line in step["lines"])
        # The downstream step got the estimator back and scored it (its child run has the score).
        assert steps["score_classifier"]["state"] == "succeeded"
        score = _child_runs(client, done["tracking_run_id"])["score_classifier"]
        assert 0.5 < score["metrics"]["accuracy"] <= 1.0

    def test_an_output_of_another_kind_fails_the_step_naming_it(
        self, app: FastAPI, client: TestClient
    ) -> None:
        register(client, examples.unstorable)
        run = start_run(client, "unstorable")
        run_jobs(app)
        done = read_run(client, "unstorable", run["id"])
        assert done["state"] == "failed"
        steps = steps_by_name(done)
        assert "step return_a_set returned a set" in steps["return_a_set"]["error"]
        assert "scikit-learn model" in steps["return_a_set"]["error"]
        assert steps["after_failure"]["state"] == "skipped"


class TestChildRuns:
    def test_training_steps_get_child_runs_with_their_params_and_metrics(
        self, app: FastAPI, client: TestClient
    ) -> None:
        done = _classifier_run(app, client)
        children = _child_runs(client, done["tracking_run_id"])
        # The model-returning step is tracked by default, score_classifier by track=True; make_data not.
        assert set(children) == {"fit_classifier", "score_classifier"}
        fit = children["fit_classifier"]
        assert fit["status"] == "finished"
        assert fit["params"] == {"data": "step:make_data", "c": "0.5", "solver": "lbfgs"}
        assert 0.5 < fit["metrics"]["train_accuracy"] <= 1.0
        assert fit["tags"]["mlflow.parentRunId"] == done["tracking_run_id"]
        assert fit["tags"]["kiln.pipeline_run"] == done["id"]
        score = children["score_classifier"]
        history = client.get(f"{API}/runs/{score['id']}/metrics/history", params={"key": "accuracy"}).json()
        assert [point["step"] for point in history["points"]] == [0, 1]
        assert score["status"] == "finished"


class TestLineage:
    def test_each_output_is_an_edge_from_its_run_and_its_inputs(
        self, app: FastAPI, client: TestClient
    ) -> None:
        done = _classifier_run(app, client)
        graph = _lineage(client, "step_output", f"{done['id']}:score_classifier", direction="upstream")
        nodes = {(node["kind"], node["id"]): node for node in graph["nodes"]}
        fit = ("step_output", f"{done['id']}:fit_classifier")
        data = ("step_output", f"{done['id']}:make_data")
        assert fit in nodes
        assert data in nodes
        assert nodes[("pipeline_run", done["id"])]["url"] == f"/pipelines/classifier/runs/{done['id']}"
        assert nodes[fit]["label"].startswith("fit_classifier of classifier run")
        edges = {(e["source"]["id"], e["target"]["id"], e["relation"]) for e in graph["edges"]}
        assert (f"{done['id']}:fit_classifier", f"{done['id']}:score_classifier", "derived_from") in edges
        assert (done["id"], f"{done['id']}:score_classifier", "produced_by") in edges


class TestRegisteredFromAStep:
    def test_a_model_registered_in_a_step_links_to_the_step_and_the_dataset_version(
        self, app: FastAPI, client: TestClient, live_url: str, admin_token: str
    ) -> None:
        create_telemetry(client)
        upload_frame(client, batch(48, seed=1))
        register(client, examples.registered_classifier)
        run = start_run(
            client, "registered_classifier", dataset="telemetry@latest", url=live_url, token=admin_token
        )
        run_jobs(app)
        done = read_run(client, "registered_classifier", run["id"])
        assert done["state"] == "succeeded", done
        version = client.get(f"{API}/models/from_step/versions/1").json()
        assert version["tags"]["kiln.pipeline_step"] == "register_classifier"
        graph = _lineage(client, "model_version", version["id"], direction="upstream", depth=5)
        kinds = {(node["kind"], node["label"]) for node in graph["nodes"]}
        assert any(kind == "dataset_version" for kind, _ in kinds), kinds
        ids = {node["id"] for node in graph["nodes"]}
        assert f"{done['id']}:register_classifier" in ids
        assert f"{done['id']}:fit_classifier" in ids


class TestTrackOption:
    def test_yaml_and_python_name_tracked_steps_and_unset_ones_keep_their_hash(self) -> None:
        spec = spec_from_yaml(
            "name: t\nsteps:\n  a: {function: examples.pipelines:make_data, inputs: {rows: 5}, track: true}\n"
        )
        assert spec.step("a").track is True
        assert examples.classifier.spec().step("score_classifier").track is True
        untracked = spec_from_yaml(
            "name: t\nsteps:\n  a: {function: examples.pipelines:make_data, inputs: {rows: 5}}\n"
        )
        # A definition written before the option existed hashes as it did (no new version).
        assert untracked.content_hash() == _hash_without_track(untracked)

    def test_logging_outside_a_pipeline_run_does_nothing(self) -> None:
        model = examples.fit_classifier(examples.make_data(100), 1.0)
        assert type(model).__name__ == "LogisticRegression"


def _hash_without_track(spec: PipelineSpec) -> str:
    document = spec.model_dump(mode="json")
    for step in document["steps"]:
        del step["track"]
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
