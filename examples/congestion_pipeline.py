"""Kiln demo pipeline ``congestion_training``: telemetry dataset version -> validated -> three candidates
trained at once -> the best registered as the model ``congestion_classifier``.

Steps run in the worker's processes and reach Kiln like any SDK program: ``KILN_URL`` and ``KILN_TOKEN``
from the worker's environment (the demo starts the server with both), to read the dataset version and
to register the model (the SDK tags the version with the run and step, so the ``register`` step's
output links to it in lineage). Each ``train`` step is a child run of the pipeline's tracking run.

    kiln pipelines register examples.congestion_pipeline:congestion_training
    kiln pipelines run congestion_training -p dataset=telemetry@latest --wait
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import kiln
from kiln.pipelines import log_metrics, log_params, param, pipeline, step

MODEL = "congestion_classifier"
FEATURES = ["hour", "throughput_mbps", "latency_ms", "jitter_ms", "packet_loss_pct", "utilization_pct"]
LABEL = "congestion"
log = logging.getLogger("examples.congestion_pipeline")


def _estimator(kind: str, c: float) -> Any:
    if kind == "logistic_regression":
        return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1_000))
    return GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0)


def _split(data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    # Seeded: the register step refits the winner on exactly the rows it was judged on.
    x_train, x_test, y_train, y_test = train_test_split(
        data[FEATURES], data[LABEL], test_size=0.25, random_state=0, stratify=data[LABEL]
    )
    return x_train, x_test, y_train, y_test


@step
def load_telemetry(dataset: str) -> pd.DataFrame:
    """The dataset version (``telemetry@3``, ``telemetry@latest``), checksum verified."""
    frame = kiln.datasets.load(dataset)
    print(f"loaded {dataset}: {len(frame)} rows")
    return frame


@step
def validate(data: pd.DataFrame, min_rows: int) -> pd.DataFrame:
    """What training needs beyond the dataset's rules: enough rows, no gaps, both classes."""
    missing = [column for column in [*FEATURES, LABEL] if column not in data.columns]
    if missing:
        raise ValueError(f"the data lacks the columns {missing}")
    if len(data) < min_rows:
        raise ValueError(f"{len(data)} rows, fewer than the {min_rows} training needs")
    if data[[*FEATURES, LABEL]].isna().any().any():
        raise ValueError("the data has missing values (the dataset's rules should have quarantined them)")
    if data[LABEL].nunique() < 2:
        raise ValueError("only one class of congestion in the data")
    log.info("validated %d rows, %.1f%% congested", len(data), 100 * data[LABEL].mean())
    return data


@step(track=True)
def train(data: pd.DataFrame, kind: str, c: float) -> dict[str, Any]:
    """One candidate, scored on the held-out quarter: a child run of the pipeline's tracking run with
    the candidate's params and scores (``track=True``: the step returns its scores, not the model)."""
    x_train, x_test, y_train, y_test = _split(data)
    model = _estimator(kind, c).fit(x_train, y_train)
    predicted = model.predict(x_test)
    scores = {"accuracy": float(accuracy_score(y_test, predicted)), "f1": float(f1_score(y_test, predicted))}
    log_params({"estimator": type(model).__name__, "test_size": 0.25})
    log_metrics(scores)
    label = f"{kind} C={c}" if kind == "logistic_regression" else kind
    print(f"{label}: accuracy {scores['accuracy']:.3f}, f1 {scores['f1']:.3f} on the held-out quarter")
    return {"kind": kind, "c": c, **scores}


@step
def evaluate(first: dict[str, Any], second: dict[str, Any], third: dict[str, Any]) -> dict[str, Any]:
    """The candidate with the best F1 (congestion is the rarer class), with the others for the record."""
    candidates = [first, second, third]
    best = max(candidates, key=lambda candidate: candidate["f1"])
    log.info("best: %s C=%s (f1 %.3f)", best["kind"], best["c"], best["f1"])
    return {**best, "candidates": candidates}


@step
def register(data: pd.DataFrame, best: dict[str, Any], dataset: str, model_name: str) -> dict[str, Any]:
    """The winner refitted on the same split and registered with its training sample (the drift
    reference) and its scores."""
    x_train, _x_test, y_train, _y_test = _split(data)
    model = _estimator(best["kind"], best["c"]).fit(x_train, y_train)
    with tempfile.TemporaryDirectory(prefix="congestion-") as folder:
        saved = kiln.save_model(
            model,
            Path(folder) / "model",
            X=x_train,
            metrics={"val_accuracy": best["accuracy"], "val_f1": best["f1"]},
            params={"kind": best["kind"], "C": str(best["c"])},
            training_inputs=[{"name": f"dataset:{dataset}"}],
        )
        version = kiln.Client().models.upload(
            model_name,
            saved,
            description=f"{best['kind']} C={best['c']} from {dataset} (f1 {best['f1']:.3f})",
            tags={"task": "congestion", "dataset": dataset},
            draft=False,
        )
    print(f"registered {model_name} v{version.number}")
    return {"model": model_name, "version": version.number, "kind": best["kind"], "f1": best["f1"]}


@pipeline
def congestion_training(
    dataset: str = "telemetry@latest",
    min_rows: int = param(500, minimum=10),
    model_name: str = MODEL,
) -> None:
    """Load a telemetry version, validate it, train three candidates in parallel, register the best."""
    data = validate(load_telemetry(dataset), min_rows)
    best = evaluate(
        train(data, "logistic_regression", 0.1),
        train(data, "logistic_regression", 10.0),
        train(data, "gradient_boosting", 1.0),
    )
    register(data, best, dataset, model_name)
