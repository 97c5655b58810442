"""The nouns of the Open Inference Protocol: a declared model, its tensors, a parsed infer request.

Plain frozen dataclasses, no pydantic: they are built once per model (``ModelMetadata``) or once per
request on the serving hot path (``InferRequest``), where a validation model tree would cost more than
the prediction. ``ModelMetadata`` is what requests are validated against; a dimension of -1 in a
declared shape accepts any size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiln.serving.inference_datatypes import NUMPY_DTYPES, Tensor
from kiln.serving.inference_errors import unknown_version


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """A declared input or output: name, datatype, shape (-1 for a variable dimension)."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    # An optional input may be left out of a request (the protocol's "optional" inputs, as Triton has).
    optional: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a tensor has a name")
        if self.datatype not in NUMPY_DTYPES:
            raise ValueError(f"tensor {self.name!r}: unknown datatype {self.datatype!r}")
        if any(not isinstance(dim, int) or dim < -1 for dim in self.shape):
            raise ValueError(f"tensor {self.name!r}: a dimension is a size >= 0, or -1 for any size")
        object.__setattr__(self, "shape", tuple(self.shape))

    def accepts_shape(self, shape: list[int]) -> bool:
        return len(shape) == len(self.shape) and all(
            want in (-1, got) for want, got in zip(self.shape, shape, strict=True)
        )

    def document(self) -> dict[str, Any]:
        """The protocol's ``$metadata_tensor``."""
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


@dataclass(frozen=True, slots=True)
class ModelMetadata:
    """A model as the protocol declares it: what requests are checked against."""

    name: str
    versions: tuple[str, ...]
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    platform: str = ""
    # The version a path without ``/versions/{v}`` reaches; the newest (last) listed one by default.
    default_version: str | None = None
    _inputs: dict[str, TensorSpec] = field(init=False, repr=False, compare=False)
    _outputs: dict[str, TensorSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "versions", tuple(str(v) for v in self.versions))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        for kind, specs in (("input", self.inputs), ("output", self.outputs)):
            names = [spec.name for spec in specs]
            if len(set(names)) != len(names):
                raise ValueError(f"model {self.name!r}: an {kind} name appears twice in {names}")
        if self.default_version is not None and self.default_version not in self.versions:
            raise ValueError(f"model {self.name!r}: default version {self.default_version!r} is not listed")
        object.__setattr__(self, "_inputs", {spec.name: spec for spec in self.inputs})
        object.__setattr__(self, "_outputs", {spec.name: spec for spec in self.outputs})

    def input(self, name: str) -> TensorSpec | None:
        return self._inputs.get(name)

    def output(self, name: str) -> TensorSpec | None:
        return self._outputs.get(name)

    def resolve_version(self, version: str | None) -> str:
        """The version a request reaches: the path's, or the default; unknown ones are a 404 as in Triton."""
        if version is None or version == "":
            if self.default_version is not None:
                return self.default_version
            if not self.versions:
                raise unknown_version(self.name, "(latest)", [])
            return self.versions[-1]
        if version not in self.versions:
            raise unknown_version(self.name, version, list(self.versions))
        return version


@dataclass(frozen=True, slots=True)
class RequestedOutput:
    """An output the request asks for, and whether it comes back as raw bytes after the JSON header."""

    name: str
    binary: bool


@dataclass(frozen=True, slots=True)
class InferRequest:
    """A parsed, validated infer request: numpy tensors by input name, the outputs to answer, the id."""

    id: str | None
    inputs: dict[str, Tensor]
    outputs: tuple[RequestedOutput, ...]
    # The request-level ``parameters`` as sent (``binary_data_output`` among them).
    parameters: dict[str, Any]
