"""Metadata documents of the Open Inference Protocol, and a model signature as OIP tensors.

The mapping from Kiln's signature (``kiln.registry.model_format.Signature``) to protocol tensors:

- a **dataframe** signature, layout ``columns`` (the default): one input per field, named as the
  field, shape ``[-1]`` (one element per row), datatype from the field type (number FP64, integer
  INT64, boolean BOOL, string BYTES, category from its allowed values). A field that is not required
  is an optional input.
- a **dataframe** signature, layout ``matrix``: one FP64 input ``input`` of shape ``[-1, n_fields]``,
  columns in the signature's field order; only when every field is numeric (number, integer, boolean,
  or a category of numbers). This is what most Triton clients send (one 2-D array).
- a **tensor** signature: one input ``input`` of shape ``[-1, n_fields]`` (``[-1, -1]`` when the
  signature lists no fields), FP64 unless every field names the same numpy dtype.
- outputs: the prediction, named as ``OutputSpec.name`` (``prediction``), shape ``[-1]``: a class is
  BYTES, INT64, FP64 or BOOL by its known classes (BYTES when none are listed); a value or a score is
  FP64. When the model answers probabilities, an FP64 output ``probabilities`` of shape
  ``[-1, n_classes]`` follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from kiln.core.errors import Invalid
from kiln.core.version import VERSION as __version__
from kiln.registry.model_format import FieldSpec, FieldType, Scalar, Signature
from kiln.serving.inference_datatypes import datatype_of
from kiln.serving.inference_tensors import ModelMetadata, TensorSpec

# What this server implements beyond the core protocol (tritonclient's binary mode needs the first).
EXTENSIONS: tuple[str, ...] = ("binary_tensor_data",)
MATRIX_INPUT = "input"
PROBABILITIES = "probabilities"

Layout = Literal["columns", "matrix"]

_FIELD_DATATYPES = {
    FieldType.number: "FP64",
    FieldType.integer: "INT64",
    FieldType.boolean: "BOOL",
    FieldType.string: "BYTES",
}


def server_metadata(
    *, name: str = "kiln", version: str = __version__, extensions: Sequence[str] = EXTENSIONS
) -> dict[str, Any]:
    """``GET /v2``: the server's name, version and protocol extensions."""
    return {"name": name, "version": version, "extensions": list(extensions)}


def model_metadata_document(model: ModelMetadata) -> dict[str, Any]:
    """``GET /v2/models/{name}[/versions/{v}]``: name, versions, platform, inputs and outputs."""
    return {
        "name": model.name,
        "versions": list(model.versions),
        "platform": model.platform,
        "inputs": [spec.document() for spec in model.inputs],
        "outputs": [spec.document() for spec in model.outputs],
    }


def metadata_from_signature(
    name: str,
    signature: Signature,
    *,
    versions: Sequence[str],
    layout: Layout = "columns",
    platform: str = "",
    default_version: str | None = None,
) -> ModelMetadata:
    """The protocol's view of a model with this signature (the mapping is in this module's docstring)."""
    if signature.input_kind == "tensor":
        inputs: tuple[TensorSpec, ...] = (_tensor_input(signature.inputs),)
    elif layout == "matrix":
        inputs = (_matrix_input(signature.inputs),)
    elif layout == "columns":
        inputs = tuple(_column_input(field) for field in signature.inputs)
    else:
        raise Invalid(f"unknown input layout {layout!r}; use 'columns' or 'matrix'")
    if not inputs:
        raise Invalid(f"model '{name}' declares no inputs in its signature; the protocol needs at least one")
    return ModelMetadata(
        name=name,
        versions=tuple(versions),
        inputs=inputs,
        outputs=_outputs(signature),
        platform=platform,
        default_version=default_version,
    )


def _column_input(field: FieldSpec) -> TensorSpec:
    if field.type is FieldType.category:
        datatype = _values_datatype(field.allowed or [])
    else:
        datatype = _FIELD_DATATYPES[field.type]
    optional = not field.required or field.default is not None
    return TensorSpec(field.name, datatype, (-1,), optional=optional)


def _matrix_input(fields: list[FieldSpec]) -> TensorSpec:
    textual = [
        field.name
        for field in fields
        if field.type is FieldType.string
        or (field.type is FieldType.category and _values_datatype(field.allowed or []) == "BYTES")
    ]
    if textual:
        raise Invalid(
            f"the matrix layout sends every field as FP64, but {', '.join(textual)} hold text; "
            "use the columns layout"
        )
    return TensorSpec(MATRIX_INPUT, "FP64", (-1, len(fields)))


def _tensor_input(fields: list[FieldSpec]) -> TensorSpec:
    dtypes = {field.dtype for field in fields}
    datatype = "FP64"
    if len(dtypes) == 1 and None not in dtypes:
        try:
            datatype = datatype_of(str(next(iter(dtypes))))
        except (TypeError, ValueError):
            datatype = "FP64"  # a dtype numpy does not know (a pandas extension type): send numbers
    return TensorSpec(MATRIX_INPUT, datatype, (-1, len(fields) if fields else -1))


def _outputs(signature: Signature) -> tuple[TensorSpec, ...]:
    spec = signature.outputs
    if spec.kind == "class":
        datatype = _values_datatype(spec.classes) if spec.classes else "BYTES"
    else:
        datatype = "FP64"
    outputs = [TensorSpec(spec.name, datatype, (-1,))]
    if spec.probabilities and spec.name != PROBABILITIES:
        outputs.append(TensorSpec(PROBABILITIES, "FP64", (-1, len(spec.classes) if spec.classes else -1)))
    return tuple(outputs)


def _values_datatype(values: Sequence[Scalar]) -> str:
    """The narrowest datatype that holds all the values (class labels, category levels)."""
    if values and all(isinstance(value, bool) for value in values):
        return "BOOL"
    if values and all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return "INT64"
    if values and all(isinstance(value, int | float) and not isinstance(value, bool) for value in values):
        return "FP64"
    return "BYTES"
