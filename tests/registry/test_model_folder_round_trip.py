"""A model saved into a folder loads back, by flavor, and predicts what the original predicted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.datasets import load_iris, make_classification
from sklearn.ensemble import IsolationForest, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import kiln
from kiln.core.errors import Invalid, ValidationFailed
from kiln.registry.flavors import save_onnx_model, save_python_function_model
from kiln.registry.loaded_model import load_model_folder
from kiln.registry.model_folder import sha256_file
from kiln.registry.model_format import FieldSpec, Signature
from kiln.registry.signature_inference import example_input, infer_signature


def telemetry(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "latency_ms": rng.gamma(2.0, 20.0, n),
            "bytes_sent": rng.integers(100, 5000, n),
            "error_rate": rng.beta(1, 30, n),
        }
    )


def test_isolation_forest_round_trips_with_scores(tmp_path: Path) -> None:
    X = telemetry()
    model = IsolationForest(n_estimators=20, random_state=0).fit(X)
    kiln.save_model(model, tmp_path / "fraud", X=X, metrics={"contamination": 0.1})

    loaded = load_model_folder(tmp_path / "fraud")
    result = loaded.predict(X)
    assert result.predictions == model.predict(X).tolist()
    np.testing.assert_allclose(result.scores, model.decision_function(X))
    assert loaded.descriptor.format_version == 2
    assert loaded.descriptor.metrics == {"contamination": 0.1}
    assert loaded.signature.outputs.kind == "score"
    # A far-out request is scored, not refused: training ranges are not bounds.
    outlier = loaded.predict([{"latency_ms": 90_000.0, "bytes_sent": 1, "error_rate": 0.9}])
    assert outlier.predictions == [-1]
    json.dumps(outlier.to_dict(), allow_nan=False)


def test_classifier_round_trips_with_probabilities_per_class(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    kiln.save_model(model, tmp_path / "iris", X=X, params={"n_estimators": 10})

    loaded = load_model_folder(tmp_path / "iris")
    result = loaded.predict(X.to_dict("records"))
    assert result.predictions == model.predict(X).tolist()
    assert result.classes == [0, 1, 2]
    np.testing.assert_allclose(result.probabilities, model.predict_proba(X))
    assert loaded.descriptor.params == {"n_estimators": "10"}
    assert loaded.smoke_test().predictions == model.predict(X.iloc[:1]).tolist()
    with pytest.raises(ValidationFailed, match=r"^sepal length \(cm\): expected a number, got 'long'$"):
        loaded.predict({**X.iloc[0].to_dict(), "sepal length (cm)": "long"})


def test_descriptor_records_checksums_example_and_versions(tmp_path: Path) -> None:
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    run_input = {"kind": "dataset", "name": "telemetry", "version": "7", "digest": "sha256:ab", "uri": ""}
    kiln.save_model(LogisticRegression().fit(X, y), tmp_path / "m", X=X, training_inputs=[run_input])
    descriptor = json.loads((tmp_path / "m" / "kiln-model.json").read_text())
    assert descriptor["training_inputs"] == [{"name": "telemetry", "version": "7", "digest": "sha256:ab"}]
    assert descriptor["format_version"] == 2
    assert list(descriptor["checksums"]) == ["model.skops", "reference-sample.json"]
    assert descriptor["reference_sample"] == "reference-sample.json"
    assert list(descriptor["example_input"]) == ["x0", "x1", "x2", "x3"]
    assert descriptor["versions"]["sklearn"]
    assert descriptor["signature"]["input_kind"] == "tensor"


def test_the_reference_sample_holds_the_models_answers_to_its_rows(tmp_path: Path) -> None:
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    model = LogisticRegression().fit(X, y)
    kiln.save_model(model, tmp_path / "m", X=X)
    sample = json.loads((tmp_path / "m" / "reference-sample.json").read_text())
    assert sample["rows"] == 60
    # The reference of prediction drift: what the model answered to the very rows sampled.
    assert sample["predictions"] == model.predict(X).tolist()


def test_onnx_round_trip_predicts_like_the_estimator(tmp_path: Path) -> None:
    skl2onnx = pytest.importorskip("skl2onnx")
    X, y = make_classification(n_samples=120, n_features=4, random_state=0)
    X = X.astype(np.float32)
    model = LogisticRegression().fit(X, y)
    graph = skl2onnx.to_onnx(model, X[:1], target_opset={"": 17, "ai.onnx.ml": 3})
    signature = infer_signature(X, model)
    save_onnx_model(graph, tmp_path / "onnx", signature=signature, example_input=example_input(X, signature))

    loaded = load_model_folder(tmp_path / "onnx")
    result = loaded.predict({name: X[:, i].tolist() for i, name in enumerate(["x0", "x1", "x2", "x3"])})
    assert result.predictions == model.predict(X).tolist()
    assert result.classes == [0, 1]
    np.testing.assert_allclose(result.probabilities, model.predict_proba(X), atol=1e-5)
    assert loaded.smoke_test().predictions == model.predict(X[:1]).tolist()


def test_python_function_entry_point_is_installed_code_built_with_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "rule"
    folder.mkdir()
    (folder / "threshold.json").write_text('{"latency_ms": 100}')
    signature = Signature(inputs=[FieldSpec(name="latency_ms", minimum=0)])
    save_python_function_model(folder, "tests.registry.predictors:ThresholdPredictor", signature=signature)

    loaded = load_model_folder(folder)
    assert loaded.predict([{"latency_ms": 20}, {"latency_ms": 250}]).predictions == ["ok", "slow"]
    assert loaded.descriptor.checksums.keys() == {"threshold.json"}


@pytest.mark.parametrize(
    ("entry_point", "says"),
    [
        ("kiln_nowhere.models:Predictor", "needs the module kiln_nowhere, which is not installed"),
        ("shutil:rmtree", "is not a class with a predict(frame) method"),
    ],
)
def test_python_function_entry_points_that_cannot_predict_are_refused(
    tmp_path: Path, entry_point: str, says: str
) -> None:
    save_python_function_model(tmp_path / "m", entry_point, signature=Signature())
    with pytest.raises(Invalid, match=re.escape(says)):
        load_model_folder(tmp_path / "m")
    assert (tmp_path / "m").is_dir()


def test_format_1_folders_from_the_first_sdk_still_load(tmp_path: Path) -> None:
    """The folder the first ``save_model`` wrote (``format_version`` 1), byte for byte in shape."""
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    folder = tmp_path / "old"
    folder.mkdir()
    skops.io.dump(model, folder / "model.skops")
    descriptor = {
        "format_version": 1,
        "flavor": "sklearn",
        "payload": "model.skops",
        "serialization": "skops",
        "estimator_class": "sklearn.linear_model._logistic.LogisticRegression",
        "signature": {
            "inputs": {
                "type": "tensor",
                "n_features": 4,
                "dtype": "float64",
                "inputs": [
                    {
                        "name": None,
                        "dtype": "float64",
                        "min": float(X[:, i].min()),
                        "max": float(X[:, i].max()),
                    }
                    for i in range(4)
                ],
            },
            "outputs": {"type": "class", "classes": [0, 1, 2]},
        },
        "metrics": {"training_accuracy": 0.97, "training_log_loss": None},
        "training_inputs": [{"kind": "dataset", "name": "iris", "version": "1", "digest": "", "uri": ""}],
        "checksums": {"model.skops": sha256_file(folder / "model.skops")},
        "versions": {"python": "3.11.7", "sklearn": "1.9.1", "skops": "0.16.0", "numpy": "2.4.6"},
    }
    (folder / "kiln-model.json").write_text(json.dumps(descriptor, indent=2))

    loaded = load_model_folder(folder)
    assert loaded.descriptor.format_version == 2
    assert [spec.name for spec in loaded.signature.inputs] == ["x0", "x1", "x2", "x3"]
    assert loaded.descriptor.training_inputs[0].name == "iris"
    assert loaded.predict(X.tolist()).predictions == model.predict(X).tolist()


def test_format_1_folder_without_a_signature_predicts_on_raw_rows(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    folder = tmp_path / "bare"
    folder.mkdir()
    skops.io.dump(model, folder / "model.skops")
    descriptor = {
        "format_version": 1,
        "flavor": "sklearn",
        "payload": "model.skops",
        "serialization": "skops",
        "signature": {"inputs": {}, "outputs": {"type": "class", "classes": [0, 1, 2]}},
        "checksums": {"model.skops": sha256_file(folder / "model.skops")},
    }
    (folder / "kiln-model.json").write_text(json.dumps(descriptor))
    assert load_model_folder(folder).predict(X[:5]).predictions == model.predict(X[:5]).tolist()
