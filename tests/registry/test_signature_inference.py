"""Signatures read off training data: names, types, observed ranges, categories, outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sklearn.datasets import load_iris, make_classification
from sklearn.ensemble import IsolationForest, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeClassifier

from kiln.registry.model_format import FieldType
from kiln.registry.signature_inference import example_input, infer_signature


def test_iris_frame_gives_named_number_fields_with_observed_ranges() -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    signature = infer_signature(X, LogisticRegression(max_iter=500).fit(X, y))
    assert signature.input_kind == "dataframe"
    assert [spec.name for spec in signature.inputs] == list(X.columns)
    sepal = signature.inputs[0]
    assert sepal.type is FieldType.number
    assert sepal.required
    assert (sepal.observed_min, sepal.observed_max) == (X.iloc[:, 0].min(), X.iloc[:, 0].max())
    # Observed ranges inform; they are not bounds a request must respect.
    assert sepal.minimum is None
    assert sepal.maximum is None
    assert signature.outputs.kind == "class"
    assert signature.outputs.classes == [0, 1, 2]
    assert signature.outputs.probabilities


def test_make_classification_array_gives_x0_to_xn_as_a_tensor() -> None:
    X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    signature = infer_signature(X, RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y))
    assert signature.input_kind == "tensor"
    assert [spec.name for spec in signature.inputs] == ["x0", "x1", "x2", "x3", "x4"]
    assert signature.inputs[2].observed_max == X[:, 2].max()
    assert signature.outputs.classes == [0, 1]


def test_an_array_takes_the_estimators_feature_names() -> None:
    frame = pd.DataFrame({"latency_ms": [1.0, 5.0, 9.0], "bytes": [10, 20, 30]})
    model = LinearRegression().fit(frame, [1.0, 2.0, 3.0])
    signature = infer_signature(frame.to_numpy(), model)
    assert [spec.name for spec in signature.inputs] == ["latency_ms", "bytes"]
    assert signature.outputs.kind == "value"


def test_text_columns_with_few_values_become_categories_and_gaps_make_fields_optional() -> None:
    frame = pd.DataFrame(
        {
            "protocol": ["tcp", "udp", "tcp", "icmp"],
            "host": [f"h{i}" for i in range(4)],
            "retries": [0, 1, 2, 3],
            "jitter": [0.1, np.nan, 0.3, 0.2],
            "encrypted": [True, False, True, True],
        }
    )
    signature = infer_signature(frame, max_categories=3)
    by_name = {spec.name: spec for spec in signature.inputs}
    assert by_name["protocol"].type is FieldType.category
    assert by_name["protocol"].allowed == ["icmp", "tcp", "udp"]
    assert by_name["host"].type is FieldType.string  # four values: more than three categories
    assert by_name["retries"].type is FieldType.integer
    assert by_name["encrypted"].type is FieldType.boolean
    assert by_name["jitter"].required is False
    assert all(spec.required for name, spec in by_name.items() if name != "jitter")


def test_pandas_categoricals_keep_their_categories() -> None:
    frame = pd.DataFrame({"tier": pd.Categorical(["gold", "free"], categories=["free", "gold", "pro"])})
    (tier,) = infer_signature(frame).inputs
    assert tier.type is FieldType.category
    assert tier.allowed == ["free", "gold", "pro"]


def test_an_outlier_detector_answers_scores() -> None:
    X = np.random.default_rng(0).normal(size=(50, 3))
    outputs = infer_signature(X, IsolationForest(n_estimators=5, random_state=0).fit(X)).outputs
    assert outputs.kind == "score"
    assert outputs.probabilities is False


def test_probabilities_only_when_the_classifier_offers_them() -> None:
    X, y = make_classification(n_samples=40, n_features=3, n_informative=2, n_redundant=0, random_state=0)
    assert infer_signature(X, RidgeClassifier().fit(X, y)).outputs.probabilities is False
    assert infer_signature(X, LogisticRegression().fit(X, y)).outputs.probabilities is True


def test_example_input_is_the_first_row_as_json() -> None:
    frame = pd.DataFrame({"latency_ms": [np.float32(2.5)], "retries": [np.int64(3)], "gap": [np.nan]})
    example = example_input(frame)
    assert example == {"latency_ms": 2.5, "retries": 3, "gap": None}
    json.dumps(example, allow_nan=False)
    X, _ = make_classification(n_samples=10, n_features=3, n_informative=2, n_redundant=0, random_state=0)
    assert list(example_input(X, infer_signature(X))) == ["x0", "x1", "x2"]
