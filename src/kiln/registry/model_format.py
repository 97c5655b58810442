"""The model folder: ``kiln-model.json`` plus a payload. One versioned contract for SDK, registry and serving.

A model on disk (a run's ``model/`` artifact folder, a registered version, what serving loads) is a
folder holding the descriptor ``kiln-model.json`` and the files it lists under ``checksums``. The
descriptor says how to load the payload (flavor, serialization), what the model takes and gives
(signature), how it was trained (params, metrics, training inputs) and the sha256 of every file.

Format versions: 1 was written by the first SDK (signature as observed columns with dtype and
range); 2 is this schema. ``parse_descriptor`` reads both and always answers version 2, so every
reader sees one shape. Pydantic only: the SDK imports this without SQLAlchemy or FastAPI.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kiln.core.errors import Invalid

FORMAT_VERSION: Literal[2] = 2
DESCRIPTOR_FILE = "kiln-model.json"
# A payload file name: one plain file inside the folder (no folders, no traversal, no hidden files).
FILE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
# ``package.module:attribute``: what a python-function model names as its code (never free text).
ENTRY_POINT = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
SHA256 = r"^[0-9a-f]{64}$"


class Flavor(StrEnum):
    sklearn = "sklearn"
    onnx = "onnx"
    python_function = "python_function"


class Serialization(StrEnum):
    skops = "skops"
    onnx = "onnx"
    pickle = "pickle"
    joblib = "joblib"
    cloudpickle = "cloudpickle"
    none = "none"  # a python-function model whose code needs no stored state

    @property
    def runs_code_on_load(self) -> bool:
        """Pickle-family payloads execute whatever the file says while loading."""
        return self in (Serialization.pickle, Serialization.joblib, Serialization.cloudpickle)


class FieldType(StrEnum):
    number = "number"
    integer = "integer"
    string = "string"
    boolean = "boolean"
    category = "category"


Scalar = str | int | float | bool


class _Schema(BaseModel):
    # Unknown keys are refused: a typo in a hand-written descriptor must not pass silently.
    model_config = ConfigDict(extra="forbid")


class FieldSpec(_Schema):
    """One input (or output) the model takes: name, type, bounds, whether it may be left out."""

    name: Annotated[str, Field(min_length=1, max_length=250)]
    type: FieldType = FieldType.number
    required: bool = True
    default: Scalar | None = None
    # Bounds a request must respect (set by whoever defines the inputs); refused outside them.
    minimum: float | None = None
    maximum: float | None = None
    # The range seen in the training data: informative (drift, forms), never enforced, since a value
    # beyond it is exactly what an outlier detector is there to score.
    observed_min: float | None = None
    observed_max: float | None = None
    allowed: list[Scalar] | None = Field(default=None, max_length=10_000)
    description: Annotated[str, Field(max_length=2000)] = ""
    # The dtype the model was trained on (numpy spelling), when known; informative only.
    dtype: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"{self.name}: minimum {self.minimum} is above maximum {self.maximum}")
        if self.type is FieldType.category and not self.allowed:
            raise ValueError(f"{self.name}: a category field lists its allowed values")
        return self


class OutputSpec(_Schema):
    """What a prediction is: a class (with the known classes), a number, or an anomaly-style score."""

    kind: Literal["class", "value", "score"] = "value"
    name: str = "prediction"
    classes: list[Scalar] | None = None
    # Whether the flavor can answer class probabilities as well (``predict_proba``).
    probabilities: bool = False


class Signature(_Schema):
    """Inputs as named fields (a table's columns); ``tensor`` when the model takes a bare array."""

    input_kind: Literal["dataframe", "tensor"] = "dataframe"
    inputs: list[FieldSpec] = Field(default_factory=list, max_length=10_000)
    outputs: OutputSpec = Field(default_factory=OutputSpec)

    @field_validator("inputs")
    @classmethod
    def _unique_names(cls, inputs: list[FieldSpec]) -> list[FieldSpec]:
        seen: set[str] = set()
        for spec in inputs:
            if spec.name in seen:
                raise ValueError(f"input {spec.name!r} appears twice")
            seen.add(spec.name)
        return inputs

    def field(self, name: str) -> FieldSpec | None:
        return next((spec for spec in self.inputs if spec.name == name), None)


class DatasetRef(_Schema):
    """A training input the run recorded (``dataset:telemetry@7``, a file digest, ...)."""

    name: str
    version: str | None = None
    digest: str | None = None
    source: str | None = None
    context: str | None = None


class ModelDescriptor(_Schema):
    """``kiln-model.json``, format version 2."""

    format_version: Literal[2] = FORMAT_VERSION
    flavor: Flavor
    # None for a python-function model whose code needs no stored state (``to_json`` leaves it out).
    payload: Annotated[str, Field(pattern=FILE_NAME)] | None = None
    serialization: Serialization
    # The estimator's class (``sklearn.ensemble._iforest.IsolationForest``), for display and checks.
    estimator_class: str | None = None
    # python_function only: the installed code that predicts (``package.module:Class``).
    entry_point: Annotated[str, Field(pattern=ENTRY_POINT)] | None = None
    signature: Signature = Field(default_factory=Signature)
    # One record the model accepts: the smoke test of the staging gate, and the warm-up of serving.
    example_input: dict[str, Scalar | None] | None = None
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float | None] = Field(default_factory=dict)
    training_inputs: list[DatasetRef] = Field(default_factory=list)
    # A uniform sample of the training inputs (``reference-sample.json``): monitoring's drift reference.
    reference_sample: Annotated[str, Field(pattern=FILE_NAME)] | None = None
    # sha256 of every file of the folder except the descriptor itself.
    checksums: dict[Annotated[str, Field(pattern=FILE_NAME)], Annotated[str, Field(pattern=SHA256)]]
    # Library versions the model was saved with (python, sklearn, skops, numpy, onnx, ...).
    versions: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> ModelDescriptor:
        if self.reference_sample is not None and self.reference_sample not in self.checksums:
            raise ValueError(f"the reference sample {self.reference_sample!r} has no checksum")
        if self.payload is not None and self.payload not in self.checksums:
            raise ValueError(f"the payload {self.payload!r} has no checksum")
        if self.payload is None and self.serialization is not Serialization.none:
            raise ValueError(f"a {self.serialization} model names its payload file")
        if self.flavor is Flavor.python_function and self.entry_point is None:
            raise ValueError("a python_function model names its entry_point (package.module:attribute)")
        if self.flavor is Flavor.onnx and self.serialization is not Serialization.onnx:
            raise ValueError("an onnx model is serialized as onnx")
        if DESCRIPTOR_FILE in self.checksums:
            raise ValueError(f"{DESCRIPTOR_FILE} does not list its own checksum")
        return self

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=True)


def parse_descriptor(raw: bytes | str) -> ModelDescriptor:
    """Read ``kiln-model.json`` (format 1 or 2) into the version-2 schema, or say what is wrong with it."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid(f"{DESCRIPTOR_FILE} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Invalid(f"{DESCRIPTOR_FILE} must hold a JSON object")
    version = data.get("format_version")
    if version == 1:
        data = _upgrade_v1(data)
    elif version != FORMAT_VERSION:
        raise Invalid(
            f"{DESCRIPTOR_FILE} has format_version {version!r}; "
            f"this Kiln reads versions 1 and {FORMAT_VERSION}"
        )
    try:
        return ModelDescriptor.model_validate(data)
    except ValidationError as exc:
        raise Invalid(f"{DESCRIPTOR_FILE} is not a valid model descriptor: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


_NUMERIC_DTYPE = re.compile(r"^(float|int|uint|bool)")


def field_type_of(dtype: str | None) -> FieldType:
    """The field type a numpy/pandas dtype name stands for."""
    if dtype is None:
        return FieldType.number
    if dtype.startswith("bool"):
        return FieldType.boolean
    if dtype.startswith(("int", "uint", "Int", "UInt")):
        return FieldType.integer
    if _NUMERIC_DTYPE.match(dtype.lower()):
        return FieldType.number
    return FieldType.string


def dataset_ref_fields(ref: dict[str, Any]) -> dict[str, str]:
    """A ``DatasetRef``'s fields from a run input as tracking records it (``kind, name, version, digest,
    uri``) or from a format-1 descriptor; empty values are left out."""
    fields = {key: ref.get(key) for key in ("name", "version", "digest", "source", "context")}
    if not fields["source"]:
        fields["source"] = ref.get("uri")
    return {key: str(value) for key, value in fields.items() if value not in (None, "")}


def _upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Format 1 (the first SDK's ``save_model``): observed columns with dtype, min and max."""
    signature = data.get("signature") or {}
    inputs = signature.get("inputs") or {}
    outputs = signature.get("outputs") or {}
    fields = []
    for index, column in enumerate(inputs.get("inputs") or []):
        dtype = column.get("dtype")
        fields.append(
            {
                "name": column.get("name") or f"x{index}",
                "type": field_type_of(dtype),
                "observed_min": column.get("min"),
                "observed_max": column.get("max"),
                "dtype": dtype,
            }
        )
    kind = "class" if outputs.get("type") == "class" else "value"
    return {
        "format_version": FORMAT_VERSION,
        "flavor": data.get("flavor"),
        "payload": data.get("payload"),
        "serialization": data.get("serialization"),
        "estimator_class": data.get("estimator_class"),
        "signature": {
            "input_kind": "tensor" if inputs.get("type") == "tensor" else "dataframe",
            "inputs": fields,
            "outputs": {"kind": kind, "classes": outputs.get("classes")},
        },
        "metrics": data.get("metrics") or {},
        "training_inputs": [
            dataset_ref_fields(ref)
            for ref in data.get("training_inputs") or []
            if isinstance(ref, dict) and ref.get("name")
        ],
        "checksums": data.get("checksums") or {},
        "versions": {str(k): str(v) for k, v in (data.get("versions") or {}).items()},
    }
