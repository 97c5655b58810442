"""Saving and loading a model folder's payload, one module per flavor.

``load_predictor`` is the one door: it refuses pickle-family payloads unless trusted, then hands the
payload to its flavor (skops for scikit-learn, onnxruntime for ONNX, installed code for python
functions). Checksums are verified before this is called (``loaded_model.load_model_folder``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kiln.core.errors import Invalid
from kiln.registry.flavors.base import EstimatorPredictor, PredictionResult, Predictor
from kiln.registry.flavors.example_answer import read_example_answer
from kiln.registry.flavors.onnx_runtime import OnnxPredictor, save_onnx_model
from kiln.registry.flavors.pickled import load_pickled, refuse_pickle
from kiln.registry.flavors.python_function import load_python_function, save_python_function_model
from kiln.registry.flavors.sklearn_skops import load_skops, save_sklearn_model
from kiln.registry.flavors.skops_trust import KILN_TRUSTED_TYPES
from kiln.registry.model_format import Flavor, ModelDescriptor, Serialization

__all__ = [
    "KILN_TRUSTED_TYPES",
    "EstimatorPredictor",
    "PredictionResult",
    "Predictor",
    "load_predictor",
    "save_onnx_model",
    "save_python_function_model",
    "save_sklearn_model",
]


def load_predictor(
    folder: Path,
    descriptor: ModelDescriptor,
    *,
    trust_pickle: bool = False,
    trusted_types: Iterable[str] = (),
) -> Predictor:
    """The payload of ``folder`` loaded by its flavor, ready to predict."""
    serialization = descriptor.serialization
    payload = folder / descriptor.payload if descriptor.payload else None
    if serialization.runs_code_on_load and not trust_pickle:
        raise refuse_pickle(descriptor.payload or "the payload", serialization)
    if descriptor.flavor is Flavor.python_function:
        return load_python_function(folder, descriptor)
    if payload is None:
        raise Invalid(f"a {descriptor.flavor} model names its payload file")
    if descriptor.flavor is Flavor.onnx:
        return OnnxPredictor(payload, descriptor.signature)
    if serialization is Serialization.skops:
        model = load_skops(payload, trusted_types=trusted_types)
    elif serialization.runs_code_on_load:
        model = load_pickled(payload, serialization)
    else:
        raise Invalid(f"a scikit-learn model is stored with skops (or trusted pickle), not {serialization}")
    if not _is_sklearn_estimator(model):  # a trusted pickle of another library's object
        return EstimatorPredictor(model, descriptor.signature)
    from kiln.registry.flavors.sklearn_predictor import SklearnPredictor  # imports scikit-learn

    return SklearnPredictor(
        model,
        descriptor.signature,
        example=descriptor.example_input,
        recorded=read_example_answer(folder, descriptor),
    )


def _is_sklearn_estimator(model: object) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:
        return False
    return isinstance(model, BaseEstimator)
