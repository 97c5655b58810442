"""The reference sample: a uniform sample of a model's training inputs, kept in its model folder.

Monitoring compares what a deployment is served with this sample (drift). It is written as
``reference-sample.json`` beside the payload, so it is checksummed and travels with the version like
every other file: ``{"rows": <training rows>, "columns": {"name": [values, ...]}}``. JSON, not a
pickle: anyone may read it safely.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from kiln.registry.model_format import Signature
from kiln.registry.signature import json_scalar

REFERENCE_FILE = "reference-sample.json"
# Enough for a two-sample test to see a small shift; a few hundred kilobytes for ten features.
REFERENCE_ROWS = 5_000


def write_reference_sample(folder: Path, X: Any, signature: Signature, *, seed: int = 0) -> str | None:
    """Write the sample of ``X`` (a DataFrame or a 2-D array in the signature's order); its file name.

    None (and nothing written) when ``X`` has no columns the signature names, or is sparse.
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
    (folder / REFERENCE_FILE).write_text(json.dumps({"rows": rows, "columns": sample}))
    return REFERENCE_FILE


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
