"""scikit-learn models stored with skops: no pickle, and only types someone vouched for are built.

skops refuses to construct any type that is not on its list unless the caller names it as trusted.
Kiln names a few more by default: scikit-learn's own fitted-state classes that skops leaves off its
list (the trees inside every forest and IsolationForest, boosting's predictors, neighbour trees),
so common models load (``skops_trust``: which types are built, and how Kiln decides that without
skops' start-up scan of scikit-learn). Types only, never functions: a function in a payload (a
FunctionTransformer's ``func``) is code, and stays refused until the caller lists it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kiln.core.errors import Invalid
from kiln.registry.errors import UntrustedPayload
from kiln.registry.flavors.example_answer import write_example_answer
from kiln.registry.flavors.skops_trust import skops_io, untrusted_types
from kiln.registry.model_folder import library_versions, write_descriptor
from kiln.registry.model_format import DatasetRef, Flavor, ModelDescriptor, Serialization, Signature
from kiln.registry.reference_sample import write_reference_sample
from kiln.registry.signature_inference import example_input, infer_outputs, infer_signature

MODEL_FILE = "model.skops"


def class_path(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def save_sklearn_model(
    estimator: Any,
    folder: Path,
    *,
    X: Any = None,
    signature: Signature | None = None,
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
    training_inputs: Iterable[DatasetRef | dict[str, Any]] = (),
) -> ModelDescriptor:
    """Write ``model.skops`` and a format-2 ``kiln-model.json`` into ``folder``.

    The signature is inferred from ``X`` (the training input) unless given; the first row of ``X``
    becomes the example input, and the model's answer to it is recorded (``example_answer``).
    """
    try:
        skops = skops_io()
    except ImportError:
        raise Invalid("saving a scikit-learn model needs skops: pip install 'kiln[sklearn]'") from None
    folder.mkdir(parents=True, exist_ok=True)
    skops.dump(estimator, folder / MODEL_FILE)
    if signature is None:
        signature = (
            infer_signature(X, estimator) if X is not None else Signature(outputs=infer_outputs(estimator))
        )
    reference = (
        write_reference_sample(folder, X, signature, predict=getattr(estimator, "predict", None))
        if X is not None and signature.inputs
        else None
    )
    example = example_input(X, signature) if X is not None else None
    write_example_answer(folder, estimator, signature, example)
    return write_descriptor(
        folder,
        flavor=Flavor.sklearn,
        reference_sample=reference,
        payload=MODEL_FILE,
        serialization=Serialization.skops,
        estimator_class=class_path(estimator),
        signature=signature,
        example_input=example,
        params={str(key): str(value) for key, value in (params or {}).items()},
        metrics=dict(metrics or {}),
        training_inputs=list(training_inputs),
        versions=library_versions(),
    )


def load_skops(path: Path, *, trusted_types: Iterable[str] = ()) -> Any:
    """The estimator in a skops file, refusing (and naming) every type nobody trusted."""
    try:
        skops = skops_io()
    except ImportError:
        raise Invalid(
            "this model is stored with skops, which is not installed: pip install 'kiln[sklearn]'"
        ) from None
    try:
        refused, needed = untrusted_types(path, trusted=trusted_types)
    except Exception as exc:  # a truncated or foreign file: skops raises whatever its zip reader raised
        raise Invalid(f"{path.name} is not a readable skops file: {exc}") from None
    if refused:
        raise UntrustedPayload(
            f"{path.name} holds types Kiln does not trust: {', '.join(refused)}. skops only builds types "
            "someone vouched for, since building others can run code from the file; if you trust them, "
            "load with them listed as trusted types",
            details={"file": path.name, "untrusted_types": refused},
        )
    try:
        return skops.load(path, trusted=needed)
    except Exception as exc:
        raise Invalid(f"{path.name} could not be loaded with skops: {exc}") from None
