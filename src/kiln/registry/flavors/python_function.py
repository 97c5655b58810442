"""python-function models: installed code, named by the descriptor, that predicts.

The descriptor's ``entry_point`` (``package.module:Class``) names a class in code installed in this
environment; Kiln imports it by name and builds it with the model folder's path, and the instance's
``predict(frame)`` answers predictions. Code is never taken from the model folder itself (that
would let a model file run anything): the folder must not be on the import path, and the module
must come from elsewhere. Only a class with a ``predict`` is accepted, so a descriptor cannot name a
plain function (``shutil:rmtree``) to be called with the folder.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kiln.core.errors import Invalid
from kiln.registry.flavors.base import EstimatorPredictor
from kiln.registry.model_folder import library_versions, write_descriptor
from kiln.registry.model_format import DatasetRef, Flavor, ModelDescriptor, Scalar, Serialization, Signature


def save_python_function_model(
    folder: Path,
    entry_point: str,
    *,
    signature: Signature,
    example_input: dict[str, Scalar | None] | None = None,
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
    training_inputs: Iterable[DatasetRef | dict[str, Any]] = (),
) -> ModelDescriptor:
    """Describe ``folder`` (whatever files the class reads, checksummed) as a python-function model."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_descriptor(
        folder,
        flavor=Flavor.python_function,
        payload=None,
        serialization=Serialization.none,
        entry_point=entry_point,
        signature=signature,
        example_input=example_input,
        params={str(key): str(value) for key, value in (params or {}).items()},
        metrics=dict(metrics or {}),
        training_inputs=list(training_inputs),
        versions=library_versions(),
    )


def load_python_function(folder: Path, descriptor: ModelDescriptor) -> EstimatorPredictor:
    entry_point = str(descriptor.entry_point)
    module_name, _, attribute = entry_point.partition(":")
    root = folder.resolve()
    for entry in sys.path:
        place = Path(entry or ".").resolve()
        if place == root or root in place.parents:
            raise Invalid(f"refusing to import {entry_point}: the model folder is on the import path")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise Invalid(
            f"the model's entry point {entry_point} needs the module {exc.name}, which is not installed "
            "here: install the package that provides it"
        ) from None
    origin = Path(getattr(module, "__file__", None) or "/").resolve()
    if root in origin.parents:
        raise Invalid(f"refusing {entry_point}: its module comes from the model folder, not installed code")
    target: Any = getattr(module, attribute, None)
    if not inspect.isclass(target) or not callable(getattr(target, "predict", None)):
        raise Invalid(f"the model's entry point {entry_point} is not a class with a predict(frame) method")
    factory: Any = target  # a class, as checked; its constructor takes the folder
    try:
        instance = factory(folder)
    except Exception as exc:
        raise Invalid(f"{entry_point}({folder.name!r}) failed: {type(exc).__name__}: {exc}") from None
    return EstimatorPredictor(instance, descriptor.signature, wants_frame=True)
