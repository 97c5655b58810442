"""A signature must fit its payload: a mismatch is a 422 naming it, and nothing is stored or changed."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression

from kiln.core.errors import ValidationFailed
from kiln.registry.flavors import save_onnx_model, save_python_function_model, save_sklearn_model
from kiln.registry.model_format import FieldSpec, Signature
from kiln.registry.signature_check import check_signature_matches
from kiln.registry.signature_inference import infer_signature
from kiln.storage.store import ArtifactStore
from kiln.tracking import artifacts
from tests.api import API, error_of
from tests.builders.core import unique
from tests.builders.registry import fitted_forest, save_folder, transactions
from tests.builders.tracking import TEST_ACTOR, make_run
from tests.registry.api import register_run, upload, zip_folder
from tests.registry.conftest import Committed, model_objects

INPUTS = [
    {"name": "amount", "type": "number", "minimum": 0},
    {"name": "hour", "type": "integer", "minimum": 0, "maximum": 23},
    {"name": "distance", "type": "number", "minimum": 0},
]


def forest_file() -> bytes:
    estimator, X = fitted_forest(n_estimators=10)
    return (save_folder(estimator, X) / "model.skops").read_bytes()


def ready_upload(client: TestClient, content: bytes, filename: str, **form: Any) -> Any:
    return client.post(
        f"{API}/models/fraud_detector/versions/upload",
        files={"file": (filename, content)},
        data={"draft": "false", **form},
    )


def test_a_signature_missing_an_input_is_refused_naming_it_and_nothing_is_stored(
    client: TestClient, nothing_left: Callable[[], None]
) -> None:
    refused = ready_upload(client, forest_file(), "model.skops", inputs=json.dumps(INPUTS[:2]))
    assert refused.status_code == 422, refused.text
    error = error_of(refused)
    assert error["message"] == (
        "the model was trained on 3 features but the signature lists 2 inputs; missing: 'distance'"
    )
    assert error["details"]["missing"] == ["distance"]
    nothing_left()


def test_inputs_named_or_ordered_otherwise_than_the_training_data_are_refused_at_the_first_mismatch(
    client: TestClient, nothing_left: Callable[[], None]
) -> None:
    reordered = [INPUTS[0], INPUTS[2], INPUTS[1]]
    refused = ready_upload(client, forest_file(), "model.skops", inputs=json.dumps(reordered))
    assert refused.status_code == 422, refused.text
    assert error_of(refused)["message"].startswith(
        "input 2 of the signature is 'distance' but the model's feature 2 is 'hour'"
    )
    nothing_left()


def test_classes_the_model_does_not_predict_are_refused(
    client: TestClient, nothing_left: Callable[[], None]
) -> None:
    X = transactions(rows=80)
    y = np.where(X["amount"] > 80, "fraud", "ok")
    classifier = LogisticRegression(max_iter=500).fit(X, y)
    folder = save_folder(classifier, X)
    signature = {
        "inputs": INPUTS,
        "outputs": {"kind": "class", "classes": ["fraud", "legit"], "probabilities": True},
    }
    refused = ready_upload(
        client, (folder / "model.skops").read_bytes(), "model.skops", signature=json.dumps(signature)
    )
    assert refused.status_code == 422, refused.text
    message = error_of(refused)["message"]
    assert "the model predicts the classes 'fraud', 'ok'" in message
    assert "missing: 'ok'" in message
    assert "never predicted: 'legit'" in message
    nothing_left()

    signature["outputs"]["classes"] = ["ok", "fraud"]  # type: ignore[index]
    accepted = ready_upload(
        client, (folder / "model.skops").read_bytes(), "model.skops", signature=json.dumps(signature)
    )
    assert accepted.status_code == 201, accepted.text


def test_a_matching_signature_registers_and_serves_its_shape(client: TestClient) -> None:
    version = upload(client, "fraud_detector", forest_file(), "model.skops", inputs=INPUTS, draft=False)
    assert version["status"] == "ready"
    assert [field["name"] for field in version["signature"]["inputs"]] == ["amount", "hour", "distance"]


def test_a_signature_edit_that_drops_an_input_is_refused_and_the_signature_stays(client: TestClient) -> None:
    upload(client, "fraud_detector", forest_file(), "model.skops", inputs=INPUTS)  # a draft
    refused = client.patch(
        f"{API}/models/fraud_detector/versions/1", json={"signature": {"inputs": INPUTS[1:]}}
    )
    assert refused.status_code == 422, refused.text
    assert "missing: 'amount'" in error_of(refused)["message"]
    kept = client.get(f"{API}/models/fraud_detector/versions/1").json()
    assert [field["name"] for field in kept["signature"]["inputs"]] == ["amount", "hour", "distance"]
    assert client.post(f"{API}/models/fraud_detector/versions/1/finish").status_code == 200


def test_a_draft_described_wrongly_at_upload_cannot_be_finished(client: TestClient) -> None:
    upload(client, "fraud_detector", forest_file(), "model.skops", inputs=INPUTS[:1])
    refused = client.post(f"{API}/models/fraud_detector/versions/1/finish")
    assert refused.status_code == 422, refused.text
    assert "missing: 'hour', 'distance'" in error_of(refused)["message"]
    assert client.get(f"{API}/models/fraud_detector/versions/1").json()["status"] == "draft"


def test_a_run_whose_saved_signature_does_not_fit_leaves_no_copied_file(
    client: TestClient, committed: Committed, store: ArtifactStore, nothing_left: Callable[[], None]
) -> None:
    estimator, X = fitted_forest(n_estimators=10)
    wrong = infer_signature(X[["amount", "hour"]], estimator)
    folder = Path(tempfile.mkdtemp(prefix="kiln-test-model-")) / "model"
    save_sklearn_model(estimator, folder, signature=wrong)
    with committed() as session:
        run = make_run(session)
        for file in sorted(folder.iterdir()):
            stored = store.put_bytes(f"{artifacts.object_prefix(run.id)}/{unique('obj')}", file.read_bytes())
            artifacts.record_artifact(session, TEST_ACTOR, run.id, f"model/{file.name}", stored)
        run_id = run.id
    refused = register_run(client, "fraud_detector", run_id, expect=422)
    assert "missing: 'distance'" in refused["error"]["message"]
    assert model_objects(store) == []  # copied before the check, removed on rollback
    nothing_left()


def test_a_model_whose_prediction_fails_is_refused_with_its_message_in_one_line(
    client: TestClient, tmp_path: Path, nothing_left: Callable[[], None]
) -> None:
    folder = tmp_path / "rule"
    folder.mkdir()
    (folder / "notes.txt").write_text("a rule")
    save_python_function_model(
        folder,
        "tests.registry.predictors:BrokenPredictor",
        signature=Signature(inputs=[FieldSpec(name="latency_ms", minimum=0)]),
    )
    refused = ready_upload(client, zip_folder(folder), "rule.zip")
    assert refused.status_code == 422, refused.text
    message = error_of(refused)["message"]
    assert "KeyError" in message
    assert "latency_ms is not a column this model knows" in message
    assert "Traceback" not in message
    assert "\n" not in message
    assert error_of(refused)["details"]["example_input"] == {"latency_ms": 0.0}
    nothing_left()


def test_an_onnx_graph_taking_other_features_than_the_signature_is_refused(
    client: TestClient, tmp_path: Path, nothing_left: Callable[[], None]
) -> None:
    onnx = pytest.importorskip("onnx")
    helper = onnx.helper
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["X"], ["Y"], keepdims=0)],
        "sum",
        [helper.make_tensor_value_info("X", onnx.TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("Y", onnx.TensorProto.FLOAT, [None])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    signature = Signature(inputs=[FieldSpec(name=name) for name in ("amount", "hour")])
    save_onnx_model(model, tmp_path / "onnx", signature=signature)
    refused = ready_upload(client, zip_folder(tmp_path / "onnx"), "onnx.zip")
    assert refused.status_code == 422, refused.text
    assert error_of(refused)["message"] == (
        "the ONNX graph's input 'X' takes 3 features but the signature lists 2 inputs"
    )
    nothing_left()

    fitting = Signature(inputs=[FieldSpec(name=name) for name in ("amount", "hour", "distance")])
    save_onnx_model(model, tmp_path / "onnx3", signature=fitting)
    assert ready_upload(client, zip_folder(tmp_path / "onnx3"), "onnx.zip").status_code == 201


def test_an_edit_that_excludes_the_saved_example_is_checked_on_an_example_built_from_it(
    client: TestClient,
) -> None:
    estimator, X = fitted_forest(n_estimators=10)
    upload(client, "fraud_detector", zip_folder(save_folder(estimator, X)), "model.zip")  # a draft
    below_the_example = float(X["amount"].iloc[0]) / 2
    tightened = [{**INPUTS[0], "maximum": below_the_example}, *INPUTS[1:]]
    edited = client.patch(
        f"{API}/models/fraud_detector/versions/1", json={"signature": {"inputs": tightened}}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["signature"]["inputs"][0]["maximum"] == below_the_example


def test_a_saved_folder_can_be_checked_against_a_signature_before_uploading(tmp_path: Path) -> None:
    estimator, X = fitted_forest(n_estimators=10)
    folder = save_folder(estimator, X, tmp_path / "model")
    check_signature_matches(folder, infer_signature(X, estimator))
    with pytest.raises(ValidationFailed, match=r"^the model was trained on 3 features .* missing: 'hour'$"):
        check_signature_matches(folder, infer_signature(X[["amount", "distance"]], estimator))
