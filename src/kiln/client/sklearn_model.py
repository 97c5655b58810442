"""A scikit-learn model on disk, Kiln style: ``model.skops`` plus ``kiln-model.json`` describing it.

skops stores the estimator without pickle, so loading it never runs code from the file; the
descriptor says what the model expects (input signature) so serving can check requests.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

MODEL_FILE = "model.skops"
DESCRIPTOR_FILE = "kiln-model.json"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""


def class_path(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _column_range(values: Any) -> dict[str, float]:
    import numpy as np

    try:
        column = np.asarray(values, dtype=float)
        if column.size == 0 or np.isnan(column).all():
            return {}
        return {"min": float(np.nanmin(column)), "max": float(np.nanmax(column))}
    except (TypeError, ValueError):  # text or categorical columns have no numeric range
        return {}


def input_signature(X: Any, estimator: Any) -> dict[str, Any]:
    """Feature names, dtypes and observed ranges of the training input, as far as they are known."""
    if hasattr(X, "columns") and hasattr(X, "dtypes"):  # a DataFrame, without importing pandas
        columns = [
            {"name": str(name), "dtype": str(dtype), **_column_range(X[name])}
            for name, dtype in zip(X.columns, X.dtypes, strict=True)
        ]
        return {"type": "dataframe", "n_features": len(columns), "inputs": columns}
    n_features = getattr(estimator, "n_features_in_", None)
    shape = getattr(X, "shape", None)
    if n_features is None and shape is not None and len(shape) == 2:
        n_features = int(shape[1])
    dtype = str(getattr(X, "dtype", "")) or None
    names = getattr(estimator, "feature_names_in_", None)
    inputs: list[dict[str, Any]] = []
    if n_features is not None and shape is not None and len(shape) == 2 and not hasattr(X, "tocsr"):
        for index in range(int(n_features)):
            name = str(names[index]) if names is not None else None
            inputs.append({"name": name, "dtype": dtype, **_column_range(X[:, index])})
    return {"type": "tensor", "n_features": n_features, "dtype": dtype, "inputs": inputs}


def output_signature(estimator: Any) -> dict[str, Any]:
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        return {"type": "class", "classes": [c.item() if hasattr(c, "item") else c for c in classes]}
    return {"type": "value"}


def _finite(value: Any) -> Any:
    """Standard JSON has no NaN or infinity: those become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(
    estimator: Any,
    folder: Path,
    *,
    X: Any = None,
    metrics: dict[str, float] | None = None,
    training_inputs: list[dict[str, Any]] | None = None,
) -> Path:
    """Write ``model.skops`` and ``kiln-model.json`` into ``folder``; returns the folder."""
    import skops.io

    folder.mkdir(parents=True, exist_ok=True)
    payload = folder / MODEL_FILE
    skops.io.dump(estimator, payload)
    descriptor = {
        "format_version": 1,
        "flavor": "sklearn",
        "payload": MODEL_FILE,
        "serialization": "skops",
        "estimator_class": class_path(estimator),
        "signature": {
            "inputs": input_signature(X, estimator) if X is not None else {},
            "outputs": output_signature(estimator),
        },
        "metrics": metrics or {},
        "training_inputs": training_inputs or [],
        "checksums": {MODEL_FILE: _sha256(payload)},
        "versions": {
            "python": platform.python_version(),
            "sklearn": _version("scikit-learn"),
            "skops": _version("skops"),
            "numpy": _version("numpy"),
        },
    }
    (folder / DESCRIPTOR_FILE).write_text(
        json.dumps(_finite(descriptor), indent=2, default=str, allow_nan=False)
    )
    return folder
