"""The reference sample: a uniform sample of a model's training inputs, kept in its model folder.

Monitoring compares what a deployment is served with this sample (drift). It is written as
``reference-sample.json`` beside the payload, so it is checksummed and travels with the version like
every other file: ``{"rows": <training rows>, "columns": {"name": [values, ...]}, "predictions":
[...]}``; ``predictions`` (the model's answers to the sampled rows, the reference of prediction drift)
only when the flavor could predict them. JSON, not a pickle: anyone may read it safely.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from kiln.registry.model_format import Signature
from kiln.registry.signature import json_scalar

REFERENCE_FILE = "reference-sample.json"
# Enough for a two-sample test to see a small shift; a few hundred kilobytes for ten features.
REFERENCE_ROWS = 5_000

log = structlog.get_logger(__name__)


def write_reference_sample(
    folder: Path,
    X: Any,
    signature: Signature,
    *,
    seed: int = 0,
    predict: Callable[[Any], Any] | None = None,
) -> str | None:
    """Write the sample of ``X`` (a DataFrame or a 2-D array in the signature's order); its file name.

    None (and nothing written) when ``X`` has no columns the signature names, or is sparse.
    ``predict`` (the model's) answers the sampled rows, kept as the reference of prediction drift.
    """
    columns = _columns(X, signature)
    if not columns:
        return None
    rows = len(next(iter(columns.values())))
    picked = (
        np.sort(np.random.default_rng(seed).choice(rows, REFERENCE_ROWS, replace=False))
        if rows > REFERENCE_ROWS
        else np.arange(rows)
    )
    sample = {name: [json_scalar(values[i]) for i in picked] for name, values in columns.items()}
    content: dict[str, Any] = {"rows": rows, "columns": sample}
    predictions = _predictions(predict, X, picked) if predict is not None else None
    if predictions is not None:
        content["predictions"] = predictions
    (folder / REFERENCE_FILE).write_text(json.dumps(content))
    return REFERENCE_FILE


def _predictions(predict: Callable[[Any], Any], X: Any, picked: np.ndarray) -> list[Any] | None:
    rows = X.iloc[picked] if hasattr(X, "iloc") else np.asarray(X)[picked]
    try:
        answers = np.asarray(predict(rows))
    except Exception as exc:  # a model that cannot answer its own training rows: no prediction drift
        log.warning("registry.reference_predictions_failed", error=str(exc))
        return None
    if answers.ndim != 1 or len(answers) != len(picked):
        return None  # several outputs per row: not one comparable prediction
    return [json_scalar(value) for value in answers.tolist()]


def _columns(X: Any, signature: Signature) -> dict[str, Any]:
    if hasattr(X, "tocsr"):
        return {}
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        names = [spec.name for spec in signature.inputs if spec.name in X.columns]
        return {name: X[name].to_numpy() for name in names}
    array = np.asarray(X)
    if array.ndim != 2 or array.shape[1] != len(signature.inputs):
        return {}
    return {spec.name: array[:, index] for index, spec in enumerate(signature.inputs)}
