"""Encode an infer response: JSON, or a JSON header followed by raw output tensors.

Outputs the request asked for with ``binary_data`` travel as their raw little-endian bytes after the
JSON header (each with ``parameters.binary_data_size``), and the answer carries
``Inference-Header-Content-Length`` and ``Content-Type: application/octet-stream``; otherwise the
whole answer is JSON with each tensor's ``data`` flattened in row-major order.

The JSON is written by orjson, FP64, integer and BOOL tensors straight from numpy
(``OPT_SERIALIZE_NUMPY``: no Python list of the data is built). The answer is the one the standard
library wrote before: the same numbers (shortest round-trip text), FP32 and FP16 data through
Python floats as before (orjson would write a float32's own shortest text, another number when read
as a double). Where orjson cannot write the answer as the standard library did (NaN or infinity,
which it would write as null, or text that is not valid Unicode) the standard library writes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

from kiln.serving.inference_datatypes import (
    BYTES,
    Tensor,
    as_element_bytes,
    encode_bytes_elements,
    numpy_dtype,
)
from kiln.serving.inference_errors import InferenceProtocolError
from kiln.serving.inference_tensors import InferRequest, ModelMetadata

JSON_HEADERS: dict[str, str] = {"Content-Type": "application/json"}
BINARY_CONTENT_TYPE = "application/octet-stream"
HEADER_LENGTH = "Inference-Header-Content-Length"
# Built once: json.dumps with options builds a new encoder on every call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))
# Tensors orjson writes from numpy as the standard library writes their Python numbers.
_NUMPY_AS_IS = frozenset("biu")


def encode_infer_response(
    model: ModelMetadata,
    version: str,
    request: InferRequest,
    outputs: Mapping[str, Any],
) -> tuple[bytes, dict[str, str]]:
    """The response body and its headers for the outputs ``request`` asked for.

    ``outputs`` maps each declared output name to what the model produced (an array, or anything
    ``numpy.asarray`` takes); each is cast to its declared datatype. An output the model did not
    produce is our fault (500), not the client's.
    """
    documents: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    finite = True
    for requested in request.outputs:
        spec = model.output(requested.name)
        if spec is None or requested.name not in outputs:
            raise InferenceProtocolError(
                f"model '{model.name}' produced no output '{requested.name}'", status=500
            )
        tensor = _as_datatype(outputs[requested.name], spec.datatype)
        document: dict[str, Any] = {
            "name": spec.name,
            "datatype": spec.datatype,
            "shape": list(tensor.shape),
        }
        if requested.binary:
            raw = encode_bytes_elements(tensor) if spec.datatype == BYTES else tensor.tobytes()
            document["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        else:
            document["data"] = _json_data(tensor, spec.name, spec.datatype)
            if tensor.dtype.kind == "f" and not np.isfinite(tensor).all():
                finite = False  # orjson writes NaN as null; the protocol's answer has NaN
        documents.append(document)
    response: dict[str, Any] = {"model_name": model.name, "model_version": version}
    if request.id is not None:
        response["id"] = request.id
    response["outputs"] = documents
    header = _encoded(response, documents, finite=finite)
    if not chunks:
        return header, dict(JSON_HEADERS)
    headers = {HEADER_LENGTH: str(len(header)), "Content-Type": BINARY_CONTENT_TYPE}
    return b"".join([header, *chunks]), headers


def _as_datatype(value: Any, datatype: str) -> Tensor:
    if datatype == BYTES:
        tensor = np.asarray(value, dtype=object)
        return tensor
    # A no-op when the model already answers the declared dtype (the common case).
    return np.asarray(value, dtype=numpy_dtype(datatype))


def _encoded(response: dict[str, Any], documents: list[dict[str, Any]], *, finite: bool) -> bytes:
    if finite:
        try:
            return orjson.dumps(response, option=orjson.OPT_SERIALIZE_NUMPY)
        except TypeError:  # a string that is not valid Unicode (a lone surrogate in the id, say)
            pass
    for document in documents:
        if isinstance(document.get("data"), np.ndarray):
            document["data"] = document["data"].tolist()
    # The standard library: NaN and infinities come out as JSON's NaN/Infinity.
    return _COMPACT_JSON.encode(response).encode()


def _json_data(tensor: Tensor, name: str, datatype: str) -> list[Any] | Tensor:
    if datatype != BYTES:
        flat = tensor.ravel()
        if flat.dtype.kind in _NUMPY_AS_IS or flat.dtype == np.float64:
            return np.ascontiguousarray(flat)  # written by orjson from numpy, or listed if need be
        # One C-level conversion to Python numbers.
        data: list[Any] = flat.tolist()
        return data
    try:
        return [as_element_bytes(item).decode() for item in tensor.ravel()]
    except UnicodeDecodeError:
        raise InferenceProtocolError(
            f"output '{name}' holds bytes that are not UTF-8 text; "
            "request it with parameters.binary_data true"
        ) from None
