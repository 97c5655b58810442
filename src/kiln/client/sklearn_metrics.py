"""Training-set metrics for a fitted estimator, as autolog records them (``training_`` prefix).

Each metric is computed on its own: one that does not apply (log loss without ``predict_proba``,
ROC AUC with a single class) is skipped without losing the others.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any


def _attempt(metrics: dict[str, float], name: str, compute: Callable[[], Any]) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            metrics[name] = float(compute())
    except (ValueError, TypeError, IndexError, AttributeError):  # the metric does not apply here
        pass


def classifier_metrics(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
    from sklearn import metrics as m

    y_pred = estimator.predict(X)
    out: dict[str, float] = {}
    weighted = {"average": "weighted", "zero_division": 0, "sample_weight": sample_weight}
    _attempt(out, "training_accuracy", lambda: m.accuracy_score(y, y_pred, sample_weight=sample_weight))
    _attempt(out, "training_precision", lambda: m.precision_score(y, y_pred, **weighted))
    _attempt(out, "training_recall", lambda: m.recall_score(y, y_pred, **weighted))
    _attempt(out, "training_f1", lambda: m.f1_score(y, y_pred, **weighted))
    if not hasattr(estimator, "predict_proba"):
        return out
    try:
        proba = estimator.predict_proba(X)
    except (AttributeError, ValueError, NotImplementedError):  # e.g. SVC(probability=False)
        return out
    classes = getattr(estimator, "classes_", None)
    _attempt(
        out,
        "training_log_loss",
        lambda: m.log_loss(y, proba, labels=classes, sample_weight=sample_weight),
    )
    if proba.ndim == 2 and proba.shape[1] == 2:
        _attempt(
            out, "training_roc_auc", lambda: m.roc_auc_score(y, proba[:, 1], sample_weight=sample_weight)
        )
    else:
        _attempt(
            out,
            "training_roc_auc",
            lambda: m.roc_auc_score(
                y, proba, multi_class="ovr", average="weighted", labels=classes, sample_weight=sample_weight
            ),
        )
    return out


def regressor_metrics(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
    from sklearn import metrics as m

    y_pred = estimator.predict(X)
    out: dict[str, float] = {}
    _attempt(out, "training_r2", lambda: m.r2_score(y, y_pred, sample_weight=sample_weight))
    _attempt(out, "training_mse", lambda: m.mean_squared_error(y, y_pred, sample_weight=sample_weight))
    _attempt(out, "training_mae", lambda: m.mean_absolute_error(y, y_pred, sample_weight=sample_weight))
    if "training_mse" in out:
        out["training_rmse"] = out["training_mse"] ** 0.5
    return out


def training_metrics(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
    """Metrics on the data the estimator was fitted on; ``{}`` without labels or for other kinds."""
    from sklearn.base import is_classifier, is_regressor

    if X is None or y is None or not hasattr(estimator, "predict"):
        return {}
    try:
        if is_classifier(estimator):
            return classifier_metrics(estimator, X, y, sample_weight)
        if is_regressor(estimator):
            return regressor_metrics(estimator, X, y, sample_weight)
    except (ValueError, TypeError, AttributeError) as exc:
        warnings.warn(f"kiln autolog: training metrics skipped: {exc}", UserWarning, stacklevel=3)
    return {}
