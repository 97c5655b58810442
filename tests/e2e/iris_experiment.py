"""Populates a live server the way the demo does: an experiment with two scikit-learn runs on iris.

A logistic-regression model is trained by SGD one epoch at a time (``partial_fit``), so each run logs
a real per-step curve; C maps to SGD's penalty as alpha = 1 / (C * n_samples). Everything goes
through the REST API with httpx, as a client would.
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass

import httpx
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

STEPS = 25


@dataclass(frozen=True, slots=True)
class IrisRun:
    id: str
    name: str
    C: float
    final_accuracy: float


@dataclass(frozen=True, slots=True)
class IrisExperiment:
    id: str
    name: str
    runs: list[IrisRun]


def _train_and_log(api: httpx.Client, experiment_id: str, c_value: float) -> IrisRun:
    data = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, random_state=7, stratify=data.target
    )
    name = f"logreg-C{c_value}"
    run = api.post(
        "/runs",
        json={
            "experiment_id": experiment_id,
            "name": name,
            "source": "tests/e2e/iris_experiment.py",
            "tags": {"model": "SGDClassifier", "dataset": "iris"},
            "environment": {
                "python": sys.version.split()[0],
                "platform": platform.platform(),
                "command": ["python", "train.py", "--C", str(c_value)],
                "git": {"commit": "0123456789abcdef0123456789abcdef01234567", "dirty": False},
                "packages": {"scikit-learn": "1.x", "numpy": "2.x"},
            },
            "inputs": [{"kind": "dataset", "name": "iris", "version": "sklearn", "digest": "", "uri": ""}],
        },
    )
    run.raise_for_status()
    run_id = run.json()["id"]
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    alpha = 1.0 / (c_value * len(x_train))
    model = SGDClassifier(loss="log_loss", alpha=alpha, learning_rate="constant", eta0=0.01, random_state=0)
    classes = np.unique(data.target)
    metrics = []
    accuracy = 0.0
    for step in range(1, STEPS + 1):
        model.partial_fit(x_train, y_train, classes=classes)
        accuracy = float(accuracy_score(y_test, model.predict(x_test)))
        loss = float(log_loss(y_train, model.predict_proba(x_train)))
        metrics += [
            {"key": "accuracy", "value": accuracy, "step": step},
            {"key": "train_loss", "value": loss, "step": step},
        ]
    params = [
        {"key": "C", "value": str(c_value)},
        {"key": "alpha", "value": f"{alpha:.6g}"},
        {"key": "loss", "value": "log_loss"},
        {"key": "eta0", "value": "0.01"},
    ]
    api.post(f"/runs/{run_id}/batch", json={"params": params, "metrics": metrics}).raise_for_status()
    report = json.dumps({"accuracy": accuracy, "classes": data.target_names.tolist()}).encode()
    api.put(f"/runs/{run_id}/artifacts/report.json", content=report).raise_for_status()
    api.patch(f"/runs/{run_id}", json={"status": "finished"}).raise_for_status()
    return IrisRun(id=run_id, name=name, C=c_value, final_accuracy=accuracy)


def log_iris_experiment(
    base_url: str, token: str, c_values: tuple[float, ...] = (0.01, 1.0)
) -> IrisExperiment:
    headers = {"authorization": f"Bearer {token}", "x-kiln-user": "e2e"}
    with httpx.Client(base_url=f"{base_url}/api/v1", headers=headers, timeout=30) as api:
        response = api.post(
            "/experiments",
            json={"name": "iris-logreg", "description": "Logistic regression on iris, two values of C"},
        )
        response.raise_for_status()
        experiment = response.json()
        runs = [_train_and_log(api, experiment["id"], c_value) for c_value in c_values]
    return IrisExperiment(id=experiment["id"], name=experiment["name"], runs=runs)
