"""Model quality from logged predictions joined with the ground truth that arrived for them.

A logged request holds one or more rows: ``outputs["predictions"][i]`` (and, for classifiers,
``outputs["classes"]`` with ``outputs["probabilities"][i]``); its feedback's ``actual`` is one value
for a one-row request or a list with one value per row. Rows pair up position by position; a request
whose feedback does not line up with its predictions is skipped and counted, never guessed at.

Classifiers get accuracy, precision, recall and F1 (binary: of the second class, the positive one in
scikit-learn's order; more classes: macro averages) and ROC AUC where probabilities were logged and
both outcomes occur. Regressors get MAE, RMSE and R². scikit-learn computes them all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CLASSIFIER_METRICS = ("accuracy", "precision", "recall", "f1", "auc")
REGRESSOR_METRICS = ("mae", "rmse", "r2")


@dataclass
class Outcomes:
    """The rows of a window that have ground truth, ready for scoring."""

    classes: list[str] | None = None  # set by the first classifier request seen
    predicted: list[Any] = field(default_factory=list)
    actual: list[Any] = field(default_factory=list)
    probabilities: list[Sequence[float | None]] = field(default_factory=list)
    mismatched: int = 0  # requests whose feedback could not be paired with their predictions

    def add(self, outputs: Any, actual: Any) -> None:
        predictions = outputs.get("predictions") if isinstance(outputs, dict) else None
        if not isinstance(predictions, list) or not predictions:
            self.mismatched += 1
            return
        truths = actual if isinstance(actual, list) else [actual]
        if len(truths) != len(predictions):
            self.mismatched += 1
            return
        classes = outputs.get("classes")
        if classes is not None and self.classes is None:
            self.classes = [str(name) for name in classes]
        self.predicted.extend(predictions)
        self.actual.extend(truths)
        probabilities = outputs.get("probabilities")
        if probabilities is not None and classes is not None and [str(c) for c in classes] == self.classes:
            self.probabilities.extend(probabilities)

    @property
    def rows(self) -> int:
        return len(self.actual)


def outcome_metrics(outcomes: Outcomes) -> dict[str, float | None]:
    """The quality metrics of the paired rows; ``None`` for a metric the rows cannot define."""
    if not outcomes.rows:
        return {}
    if outcomes.classes is not None:
        return _classifier(outcomes)
    return _regressor(outcomes)


def _classifier(outcomes: Outcomes) -> dict[str, float | None]:
    from sklearn import metrics

    actual = np.asarray([str(value) for value in outcomes.actual])
    predicted = np.asarray([str(value) for value in outcomes.predicted])
    classes = outcomes.classes or []
    binary = len(classes) == 2
    averaging: dict[str, Any] = (
        {"average": "binary", "pos_label": classes[1]} if binary else {"average": "macro", "labels": classes}
    )
    scores: dict[str, float | None] = {
        "accuracy": float(metrics.accuracy_score(actual, predicted)),
        "precision": float(metrics.precision_score(actual, predicted, zero_division=0, **averaging)),
        "recall": float(metrics.recall_score(actual, predicted, zero_division=0, **averaging)),
        "f1": float(metrics.f1_score(actual, predicted, zero_division=0, **averaging)),
        "auc": _auc(actual, outcomes, classes),
    }
    return scores


def _auc(actual: np.ndarray, outcomes: Outcomes, classes: list[str]) -> float | None:
    """ROC AUC from the logged probabilities; None without them, or when one class never occurred."""
    from sklearn import metrics

    if len(outcomes.probabilities) != len(actual) or not set(actual) <= set(classes):
        return None
    probabilities = np.asarray(outcomes.probabilities, dtype="float64")
    if probabilities.ndim != 2 or not np.isfinite(probabilities).all():
        return None
    present = set(actual)
    if len(present) < 2:
        return None
    if len(classes) == 2:
        return float(metrics.roc_auc_score(actual == classes[1], probabilities[:, 1]))
    if present != set(classes):  # one-vs-rest AUC is undefined for a class with no positives
        return None
    return float(metrics.roc_auc_score(actual, probabilities, multi_class="ovr", labels=classes))


def _regressor(outcomes: Outcomes) -> dict[str, float | None]:
    from sklearn import metrics

    pairs = [
        (p, a) for p, a in zip(outcomes.predicted, outcomes.actual, strict=True) if _number(p) and _number(a)
    ]
    if not pairs:
        return dict.fromkeys(REGRESSOR_METRICS)
    predicted, actual = (np.asarray(side, dtype="float64") for side in zip(*pairs, strict=True))
    return {
        "mae": float(metrics.mean_absolute_error(actual, predicted)),
        "rmse": float(math.sqrt(metrics.mean_squared_error(actual, predicted))),
        # R² needs spread in the truth: a window of identical actual values has none.
        "r2": float(metrics.r2_score(actual, predicted)) if len(set(actual.tolist())) > 1 else None,
    }


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def paired(rows: Iterable[tuple[Any, Any]]) -> Outcomes:
    """``Outcomes`` of ``(outputs, actual)`` pairs, in log order."""
    outcomes = Outcomes()
    for outputs, actual in rows:
        outcomes.add(outputs, actual)
    return outcomes
