"""Does a signature fit the model it describes? Checked wherever a version's signature becomes final.

A signature that lists the wrong inputs registers fine and fails later, at every request serving
gets. So registration, finishing a draft and editing a signature all load the payload and compare:
for scikit-learn the estimator's ``n_features_in_`` / ``feature_names_in_`` and ``classes_``, for
ONNX the graph's inputs, and for every flavor one prediction on an example built from the signature.
A mismatch is a ``ValidationFailed`` (422) naming what differs; the model's own error is shortened
to one line, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from kiln.core.errors import KilnError, ValidationFailed
from kiln.registry.flavors import load_predictor
from kiln.registry.flavors.base import json_list
from kiln.registry.loaded_model import LoadedModel, load_model_folder
from kiln.registry.model_format import FieldSpec, FieldType, Flavor, ModelDescriptor, Scalar, Signature

MAX_MESSAGE = 300  # characters of the model's own error kept in the answer


def check_folder_signature(folder: Path, descriptor: ModelDescriptor, *, trust_pickle: bool = False) -> None:
    """Load ``folder``'s payload as ``descriptor`` says (its signature is the one checked) and check it.

    ``folder`` holds the payload files; its own ``kiln-model.json``, if any, is not read, since the
    signature being checked may be one the caller has not written yet.
    """
    predictor = load_predictor(folder, descriptor, trust_pickle=trust_pickle)
    check_signature_matches(LoadedModel(folder, descriptor, predictor), descriptor.signature)


def check_signature_matches(
    model: LoadedModel | Path, signature: Signature, *, trust_pickle: bool = False
) -> None:
    """``ValidationFailed`` naming the first way ``signature`` does not fit ``model``; nothing if it fits.

    ``model`` is a loaded model or a complete model folder (loaded here, checksums verified).
    """
    if not signature.inputs:
        return  # nothing described (a format-1 folder saved without X): nothing to compare
    if isinstance(model, Path):
        model = load_model_folder(model, trust_pickle=trust_pickle)
    flavor = model.descriptor.flavor
    if flavor is Flavor.sklearn:
        _check_estimator_inputs(model.model, signature)
        _check_classes(model.model, signature)
    elif flavor is Flavor.onnx:
        _check_onnx_inputs(model.model, signature)
    _check_smoke_prediction(model, signature)


# -- scikit-learn -----------------------------------------------------------------------------


def _check_estimator_inputs(estimator: Any, signature: Signature) -> None:
    names = [spec.name for spec in signature.inputs]
    trained_names = getattr(estimator, "feature_names_in_", None)
    if trained_names is not None:
        trained = [str(name) for name in trained_names]
        if len(trained) != len(names):
            raise _count_mismatch(len(trained), names, trained)
        for position, (theirs, ours) in enumerate(zip(trained, names, strict=True), start=1):
            if theirs != ours:
                raise ValidationFailed(
                    f"input {position} of the signature is {ours!r} but the model's feature {position} "
                    f"is {theirs!r}: list the inputs with the names and in the order the model was "
                    "trained on",
                    details={"position": position, "signature_input": ours, "model_feature": theirs},
                )
        return
    n_features = getattr(estimator, "n_features_in_", None)
    if isinstance(n_features, int | np.integer) and int(n_features) != len(names):
        raise _count_mismatch(int(n_features), names, None)


def _count_mismatch(n_features: int, names: list[str], trained: list[str] | None) -> ValidationFailed:
    message = f"the model was trained on {n_features} features but the signature lists {len(names)} inputs"
    details: dict[str, Any] = {"model_features": n_features, "signature_inputs": len(names)}
    if trained is not None:
        missing = [name for name in trained if name not in names]
        extra = [name for name in names if name not in trained]
        if missing:
            message += f"; missing: {_listed(missing)}"
            details["missing"] = missing
        if extra:
            message += f"; not a feature of the model: {_listed(extra)}"
            details["unknown"] = extra
    return ValidationFailed(message, details=details)


def _check_classes(estimator: Any, signature: Signature) -> None:
    declared = signature.outputs.classes
    trained = getattr(estimator, "classes_", None)
    if declared is None or trained is None:
        return
    known = json_list(trained)
    missing = [value for value in known if _key(value) not in {_key(item) for item in declared}]
    unknown = [value for value in declared if _key(value) not in {_key(item) for item in known}]
    if missing or unknown:
        parts = [
            f"the model predicts the classes {_listed(known)} but the signature lists {_listed(declared)}"
        ]
        if missing:
            parts.append(f"missing: {_listed(missing)}")
        if unknown:
            parts.append(f"never predicted: {_listed(unknown)}")
        raise ValidationFailed(
            "; ".join(parts), details={"model_classes": known, "signature_classes": list(declared)}
        )


def _key(value: Any) -> Any:
    """Classes compare by value: 1, 1.0 and "1" (a form's spelling) are the same class."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return str(value)


# -- ONNX -------------------------------------------------------------------------------------


def _check_onnx_inputs(session: Any, signature: Signature) -> None:
    graph_inputs = list(session.get_inputs())
    names = [spec.name for spec in signature.inputs]
    if len(graph_inputs) == 1:  # one tensor holding every field, in the signature's order
        shape = list(getattr(graph_inputs[0], "shape", None) or [])
        width = shape[-1] if len(shape) >= 2 else None
        if isinstance(width, int) and width != len(names):
            raise ValidationFailed(
                f"the ONNX graph's input {graph_inputs[0].name!r} takes {width} features but the signature "
                f"lists {len(names)} inputs",
                details={"model_features": width, "signature_inputs": len(names)},
            )
        return
    graph_names = [node.name for node in graph_inputs]
    missing = [name for name in graph_names if name not in names]
    extra = [name for name in names if name not in graph_names]
    if missing or extra:
        parts = [f"the ONNX graph takes the inputs {_listed(graph_names)}"]
        if missing:
            parts.append(f"missing from the signature: {_listed(missing)}")
        if extra:
            parts.append(f"not inputs of the graph: {_listed(extra)}")
        raise ValidationFailed("; ".join(parts), details={"missing": missing, "unknown": extra})


# -- one prediction ---------------------------------------------------------------------------


def _check_smoke_prediction(model: LoadedModel, signature: Signature) -> None:
    example = smoke_example(signature, model.descriptor.example_input)
    try:
        model.validate([example])
    except KilnError:
        # The saved example predates this signature (an edit tightened a bound): build one from it.
        example = smoke_example(signature)
    try:
        model.predict([example])
    except KilnError as exc:
        raise ValidationFailed(
            f"a prediction on the example input {example} failed: {_shortened(exc.message)}",
            details={"example_input": example},
        ) from None
    except Exception as exc:  # the model's own code: any error, said in one line
        raise ValidationFailed(
            f"the model could not predict the example input {example} with this signature: "
            f"{type(exc).__name__}: {_shortened(_said(exc))}",
            details={"example_input": example, "error": type(exc).__name__},
        ) from None


def smoke_example(
    signature: Signature, example_input: dict[str, Scalar | None] | None = None
) -> dict[str, Scalar | None]:
    """One record for ``signature``: the descriptor's example where it names a field, else a value
    built from the field's default, allowed values or bounds."""
    given = example_input or {}
    return {
        spec.name: given[spec.name] if given.get(spec.name) is not None else _value_for(spec)
        for spec in signature.inputs
    }


def _value_for(spec: FieldSpec) -> Scalar | None:
    if spec.default is not None:
        return spec.default
    if spec.allowed:
        return spec.allowed[0]
    if spec.type is FieldType.boolean:
        return False
    if spec.type is FieldType.string:
        return "example"
    low = spec.minimum if spec.minimum is not None else spec.observed_min
    high = spec.maximum if spec.maximum is not None else spec.observed_max
    if low is not None and high is not None:
        value = (low + high) / 2
    else:
        value = low if low is not None else high if high is not None else 0.0
    if spec.type is FieldType.integer:
        whole = round(value)
        if spec.minimum is not None and whole < spec.minimum:
            whole += 1
        if spec.maximum is not None and whole > spec.maximum:
            whole -= 1
        return int(whole)
    return float(value)


def _said(exc: Exception) -> str:
    """What the error says (a KeyError's ``str`` is the repr of its argument, escapes and all)."""
    if len(exc.args) == 1 and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc)


def _shortened(message: str) -> str:
    line = next((part.strip() for part in message.splitlines() if part.strip()), "no message")
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def _listed(values: list[Any]) -> str:
    shown = ", ".join(repr(value) for value in values[:10])
    return shown + (f" and {len(values) - 10} more" if len(values) > 10 else "")
