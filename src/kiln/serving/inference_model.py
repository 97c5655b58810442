"""A deployment's model behind the Open Inference Protocol: request tensors in, output tensors out.

The tensors are named as ``metadata_from_signature`` declares them (the model cache builds that
metadata, ``columns`` layout): a dataframe signature takes one 1-D tensor per field, a tensor
signature one 2-D tensor ``input``. The codec has already checked names, datatypes and shapes; here
the tensors become the model's input as they are (numpy arrays, no per-row objects), the signature's
own checks run on them (ranges, allowed values, required fields; vectorised over each column), and
the model's answer becomes the declared outputs: the prediction, and ``probabilities`` when the
model gives them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kiln.core.errors import ValidationFailed
from kiln.registry.flavors import PredictionResult
from kiln.registry.loaded_model import LoadedModel
from kiln.serving.inference_datatypes import BYTES, Tensor
from kiln.serving.inference_errors import InferenceProtocolError
from kiln.serving.inference_metadata import MATRIX_INPUT, PROBABILITIES
from kiln.serving.inference_tensors import InferRequest, ModelMetadata


def model_input(metadata: ModelMetadata, request: InferRequest) -> tuple[dict[str, Tensor], int]:
    """The request's tensors as the model's input (BYTES as text), and how many rows they hold."""
    inputs = {
        name: _as_text(name, tensor) if _is_bytes(metadata, name) else tensor
        for name, tensor in request.inputs.items()
    }
    rows = {name: int(tensor.shape[0]) if tensor.ndim else 1 for name, tensor in inputs.items()}
    if len(set(rows.values())) > 1:
        listed = ", ".join(f"'{name}' has {count}" for name, count in rows.items())
        raise InferenceProtocolError(
            f"the inputs hold different numbers of rows ({listed}); send one element per row in each"
        )
    count = next(iter(rows.values()))
    if count == 0:
        raise InferenceProtocolError("the inputs hold no rows; send at least one")
    return inputs, count


def validated(model: LoadedModel, inputs: dict[str, Tensor]) -> Any:
    """The input checked against the signature; a failed check is a 400 naming the field."""
    data: Any = inputs[MATRIX_INPUT] if model.signature.input_kind == "tensor" else inputs
    try:
        return model.validate(data)
    except ValidationFailed as exc:
        raise InferenceProtocolError(exc.message) from None


def wants_probabilities(metadata: ModelMetadata, request: InferRequest) -> bool:
    """Only compute probabilities when the request asks for them (every output, by default)."""
    prediction = metadata.outputs[0].name
    return prediction != PROBABILITIES and any(out.name == PROBABILITIES for out in request.outputs)


def model_outputs(metadata: ModelMetadata, result: PredictionResult) -> dict[str, Any]:
    """The declared outputs from the model's answer (the encoder casts each to its datatype)."""
    outputs: dict[str, Any] = {metadata.outputs[0].name: result.predictions}
    if result.probabilities is not None and metadata.output(PROBABILITIES) is not None:
        outputs.setdefault(PROBABILITIES, result.probabilities)
    return outputs


def _is_bytes(metadata: ModelMetadata, name: str) -> bool:
    spec = metadata.input(name)
    return spec is not None and spec.datatype == BYTES


def _as_text(name: str, tensor: Tensor) -> Tensor:
    """A BYTES tensor as text: the signature's string and category fields hold ``str`` values."""
    text = np.empty(tensor.shape, dtype=object)
    flat = text.reshape(-1)
    try:
        for index, element in enumerate(tensor.reshape(-1)):
            flat[index] = element.decode()
    except UnicodeDecodeError:
        raise InferenceProtocolError(
            f"input '{name}' holds bytes that are not UTF-8 text at element {index}; "
            "the model takes text for it"
        ) from None
    return text
