"""The one model every server answers for, and the request bodies each one reads.

A scaled logistic regression on scikit-learn's breast-cancer data (569 rows, 30 numeric features),
trained once per benchmark run on a DataFrame, as a user would. Each server gets it the way it is
meant to receive a model:

- Kiln: ``kiln.register_model`` (skops, with the signature taken from the DataFrame);
- MLflow: ``mlflow.sklearn.save_model`` with the inferred signature (cloudpickle);
- BentoML and MLServer: ``joblib`` (MLServer's scikit-learn runtime reads ``model.joblib``). They
  are sent plain arrays, so their copy has the column names taken off its fitted steps: the same
  coefficients, but scikit-learn does not warn on every request about an array without names.

Every venv pins the same scikit-learn and numpy (bench/run.sh), so each loads the very same bytes.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

MODEL_NAME = "breast_cancer"
DEPLOYMENT = "breast-cancer"
BATCH_ROWS = 1000


@dataclass(frozen=True)
class Trained:
    model: Pipeline
    X: pd.DataFrame

    @property
    def features(self) -> list[str]:
        return [str(name) for name in self.X.columns]

    def rows(self, count: int) -> list[list[float]]:
        """``count`` real rows, cycling through the data set (569 rows) for larger batches."""
        values = self.X.to_numpy()
        return [[float(v) for v in values[i % len(values)]] for i in range(count)]

    def records(self, count: int) -> list[dict[str, float]]:
        return [dict(zip(self.features, row, strict=True)) for row in self.rows(count)]


def train() -> Trained:
    data = load_breast_cancer(as_frame=True)
    X, y = data.data, data.target
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(X, y)
    return Trained(model, X)


def without_feature_names(model: Pipeline) -> Pipeline:
    """The same fitted pipeline for callers that send arrays (no per-request feature-name warning)."""
    plain = copy.deepcopy(model)
    for _, step in plain.steps:
        if hasattr(step, "feature_names_in_"):
            del step.feature_names_in_
    return plain


def save_joblib(trained: Trained, path: Path) -> Path:
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(without_feature_names(trained.model), path)
    return path


def save_mlflow(trained: Trained, folder: Path) -> Path:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    signature = infer_signature(trained.X, trained.model.predict(trained.X))
    mlflow.sklearn.save_model(trained.model, str(folder), signature=signature)
    return folder


def dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


# -- the request bodies, per server and size ---------------------------------------------------------


def kiln_predict_body(trained: Trained, rows: int) -> bytes:
    return dumps({"inputs": trained.records(rows)})


def oip_body(trained: Trained, rows: int, metadata: dict[str, Any]) -> bytes:
    """An Open Inference Protocol request shaped by the model's own metadata (``GET /v2/models/{name}``):
    one ``[rows, n]`` matrix input, or one ``[rows]`` input per field."""
    inputs = metadata.get("inputs") or []
    matrix = trained.rows(rows)
    if len(inputs) == 1 and len(inputs[0].get("shape", [])) == 2:
        spec = inputs[0]
        flat = [value for row in matrix for value in row]
        tensors = [
            {
                "name": spec["name"],
                "datatype": spec["datatype"],
                "shape": [rows, len(trained.features)],
                "data": flat,
            }
        ]
    else:
        by_name = {spec["name"]: spec for spec in inputs}
        tensors = [
            {
                "name": name,
                "datatype": by_name.get(name, {}).get("datatype", "FP64"),
                "shape": [rows],
                "data": [row[index] for row in matrix],
            }
            for index, name in enumerate(trained.features)
        ]
    return dumps({"inputs": tensors})


def mlflow_body(trained: Trained, rows: int) -> bytes:
    return dumps({"dataframe_split": {"columns": trained.features, "data": trained.rows(rows)}})


def bentoml_body(trained: Trained, rows: int) -> bytes:
    return dumps({"inputs": trained.rows(rows)})


def mlserver_body(trained: Trained, rows: int) -> bytes:
    """One FP64 ``[rows, 30]`` tensor; both outputs asked for, as Kiln answers both."""
    flat = [value for row in trained.rows(rows) for value in row]
    return dumps(
        {
            "inputs": [
                {"name": "input-0", "datatype": "FP64", "shape": [rows, len(trained.features)], "data": flat}
            ],
            "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
        }
    )


def expected_predictions(trained: Trained, rows: int) -> list[int]:
    """What every server must answer for the first ``rows`` rows (checked before each timed run)."""
    frame = pd.DataFrame(np.asarray(trained.rows(rows)), columns=trained.X.columns)
    return [int(v) for v in trained.model.predict(frame)]
