"""Kiln demo: train classifiers on scikit-learn's bundled breast-cancer data, tracked in Kiln.

Runs a small sweep of SGD logistic-regression models (per-epoch curves, params, a dataset input,
artifacts) and one autologged gradient-boosting model, so the UI has real runs to list, chart and compare.

    KILN_URL=http://127.0.0.1:8000 python examples/train_breast_cancer.py
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import kiln
import kiln.sklearn

EXPERIMENT = "breast-cancer"
EPOCHS = 30


def load_data() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray, str]:
    data = load_breast_cancer(as_frame=True)
    features, target = data.data, data.target.to_numpy()
    digest = hashlib.sha256(features.to_numpy().tobytes() + target.tobytes()).hexdigest()
    x_train, x_val, y_train, y_val = train_test_split(
        features, target, test_size=0.25, random_state=7, stratify=target
    )
    # Scaled, but kept as named columns: the saved model's signature names every feature.
    scaler = StandardScaler().fit(x_train)

    def scaled(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(scaler.transform(frame), columns=frame.columns)

    return scaled(x_train), scaled(x_val), y_train, y_val, digest


def train_sgd(alpha: float, learning_rate: float, data: tuple, digest: str) -> str:
    x_train, x_val, y_train, y_val = data
    inputs = [{"name": "sklearn/breast_cancer", "version": "1", "digest": digest, "uri": "sklearn.datasets"}]
    with kiln.start_run(
        experiment=EXPERIMENT, name=f"sgd-alpha{alpha}-lr{learning_rate}", inputs=inputs
    ) as run:
        run.log_params(
            {
                "model": "SGDClassifier",
                "loss": "log_loss",
                "alpha": alpha,
                "eta0": learning_rate,
                "epochs": EPOCHS,
                "test_size": 0.25,
            }
        )
        run.set_tags({"stage": "demo", "dataset": "breast_cancer"})
        model = SGDClassifier(
            loss="log_loss", alpha=alpha, learning_rate="constant", eta0=learning_rate, random_state=0
        )
        classes = np.unique(y_train)
        for epoch in range(EPOCHS):
            model.partial_fit(x_train, y_train, classes=classes)
            run.log_metrics(
                {
                    "train_loss": log_loss(y_train, model.predict_proba(x_train)),
                    "val_loss": log_loss(y_val, model.predict_proba(x_val)),
                    "val_accuracy": accuracy_score(y_val, model.predict(x_val)),
                },
                step=epoch,
            )
        predictions = model.predict(x_val)
        run.log_metric("val_f1", f1_score(y_val, predictions), step=EPOCHS - 1)
        with tempfile.TemporaryDirectory() as folder:
            report = Path(folder) / "confusion_matrix.json"
            report.write_text(
                json.dumps(
                    {
                        "labels": ["malignant", "benign"],
                        "matrix": confusion_matrix(y_val, predictions).tolist(),
                    }
                )
            )
            run.log_artifact(str(report), artifact_path="evaluation")
            # The model folder (kiln-model.json + model.skops) the registry registers from: runs:/<id>/model
            model_folder = kiln.save_model(
                model,
                Path(folder) / "model",
                X=x_val,
                metrics={"val_accuracy": accuracy_score(y_val, predictions)},
                params={"alpha": str(alpha), "eta0": str(learning_rate)},
                training_inputs=inputs,
            )
            run.log_artifacts(str(model_folder), "model")
        return run.id


def train_autologged(data: tuple) -> None:
    x_train, _x_val, y_train, _y_val = data
    kiln.sklearn.autolog()
    with kiln.start_run(experiment=EXPERIMENT, name="gradient-boosting-autolog"):
        GradientBoostingClassifier(n_estimators=50, max_depth=2, random_state=0).fit(x_train, y_train)


def main() -> None:
    x_train, x_val, y_train, y_val, digest = load_data()
    data = (x_train, x_val, y_train, y_val)
    run_ids = [
        train_sgd(alpha, lr, data, digest) for alpha, lr in [(0.0001, 0.01), (0.001, 0.01), (0.01, 0.05)]
    ]
    train_autologged(data)
    best = kiln.Client().search_runs(experiment=EXPERIMENT, order_by="metrics.val_accuracy DESC", limit=1)
    print(f"tracked {len(run_ids) + 1} runs in experiment '{EXPERIMENT}'")
    for run in best:
        print(f"best run: {run.name} val_accuracy={run.metrics.get('val_accuracy')}")
        break


if __name__ == "__main__":
    main()
