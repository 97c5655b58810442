"""A scikit-learn model on disk, Kiln style: ``model.skops`` plus ``kiln-model.json`` describing it.

skops stores the estimator without pickle, so loading it never runs code from the file. The
descriptor (format 2, ``kiln.registry.model_format``) says what the model takes (the signature
inferred from the training input), one example record, the metrics, params and training inputs,
and the sha256 of every file: the same contract the registry and serving read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiln.registry.model_format import DESCRIPTOR_FILE

MODEL_FILE = "model.skops"

__all__ = ["DESCRIPTOR_FILE", "MODEL_FILE", "class_path", "save_model"]


def class_path(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def save_model(
    estimator: Any,
    folder: Path | str,
    *,
    X: Any = None,
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
    training_inputs: list[dict[str, Any]] | None = None,
) -> Path:
    """Write ``model.skops`` and ``kiln-model.json`` into ``folder``; returns the folder.

    ``X`` (the training input, or a sample of it) gives the signature (names, types, observed ranges,
    categories) and the example input; ``training_inputs`` are run inputs as tracking records them.
    """
    # Imported here: ``import kiln`` must not pull in numpy, and these modules import it.
    from kiln.registry.flavors import save_sklearn_model
    from kiln.registry.model_format import dataset_ref_fields

    folder = Path(folder)
    save_sklearn_model(
        estimator,
        folder,
        X=X,
        metrics=metrics,
        params=params,
        training_inputs=[dataset_ref_fields(ref) for ref in training_inputs or [] if ref.get("name")],
    )
    return folder
