"""Parse and validate an Open Inference Protocol infer request into numpy tensors.

The body is JSON, whatever its Content-Type says (``tritonclient`` sends none), unless the header
``Inference-Header-Content-Length`` is given: then that many bytes are the JSON header and the rest
holds the raw tensors of the inputs that declare ``parameters.binary_data_size``, in input order (the
binary tensor extension). Every mistake is an ``InferenceProtocolError`` (400) that names the input and
what to send instead.

Fast on purpose (the serving hot path): binary tensors are ``numpy.frombuffer`` views over the body,
JSON numbers go through one ``numpy.asarray`` per input, and nothing loops per element except BYTES.

The JSON is read by orjson (several times the standard library's speed on a large body). A body it
refuses is read by the standard library, which says what it says (the same messages as ever) or
takes what only it takes (``NaN`` and ``Infinity``, numbers too large for a double). orjson reads
an integer beyond 64 bits as a float, where the standard library keeps it exact, and the checks
below tell the two apart (an out-of-range integer, a float where an integer belongs): so whenever
a float of magnitude 2**63 or more turns up, the request is read again by the standard library and
checked from scratch, and every answer is the one the standard library gives.
"""

from __future__ import annotations

import json
import math
import zlib
from typing import Any

import numpy as np
import orjson

from kiln.serving.inference_datatypes import (
    BYTES,
    DATATYPES,
    NUMPY_DTYPES,
    Tensor,
    decode_bytes_elements,
    numpy_dtype,
)
from kiln.serving.inference_errors import InferenceProtocolError
from kiln.serving.inference_tensors import InferRequest, ModelMetadata, RequestedOutput, TensorSpec

# A compressed body may not inflate past this (a small gzip can expand a thousandfold).
MAX_DECODED_BYTES = 256 * 1024 * 1024
# What a JSON array of each kind of datatype may hold (numpy's dtype.kind of the parsed array).
_ACCEPTED_KINDS = {"b": "b", "u": "iu", "i": "iu", "f": "iuf"}
_KIND_WORDS = {"b": "booleans (true/false)", "u": "integers", "i": "integers", "f": "numbers"}
_UNSUPPORTED_PARAMETERS = frozenset({"shared_memory_region", "classification"})
# orjson reads integers beyond 64 bits as floats: every such float is at least this large.
_LOST_INTEGER = float(2**63)


class _Inexact(Exception):
    """orjson may have read an integer beyond 64 bits as a float: read the body again, exactly."""


def parse_infer_request(
    body: bytes,
    model: ModelMetadata,
    *,
    header_length: str | int | None = None,
    content_encoding: str | None = None,
) -> InferRequest:
    """Read an infer request body (JSON, or JSON header + binary tensors) and check it against ``model``.

    ``header_length`` is the ``Inference-Header-Content-Length`` header's value, when the request has it;
    ``content_encoding`` the ``Content-Encoding`` (gzip and deflate are inflated first).
    """
    body = _decoded(body, content_encoding)
    header, binary = _split(body, header_length)
    document, exact = _load_json(header)
    if not exact and _lost_integers(document):
        document, exact = _load_json(header, exact=True)
    try:
        return _request(document, model, binary, exact=exact)
    except _Inexact:
        return _request(_load_json(header, exact=True)[0], model, binary, exact=True)


def _request(
    document: dict[str, Any], model: ModelMetadata, binary: memoryview, *, exact: bool
) -> InferRequest:
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InferenceProtocolError(f"'id' must be a string, got {_json_kind(request_id)}")
    parameters = _parameters(document.get("parameters"), "the request")
    inputs = _inputs(document.get("inputs"), model, binary, exact=exact)
    binary_default = parameters.get("binary_data_output", False)
    if not isinstance(binary_default, bool):
        raise InferenceProtocolError("parameters.binary_data_output must be true or false")
    outputs = _outputs(document.get("outputs"), model, binary_default)
    return InferRequest(id=request_id, inputs=inputs, outputs=outputs, parameters=parameters)


def _decoded(body: bytes, content_encoding: str | None) -> bytes:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding not in ("gzip", "deflate"):
        raise InferenceProtocolError(
            f"unsupported Content-Encoding {content_encoding!r}; send gzip, deflate or an uncompressed body"
        )
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        inflated = inflater.decompress(body, MAX_DECODED_BYTES + 1)
    except zlib.error as exc:
        raise InferenceProtocolError(f"the body is not valid {encoding} data: {exc}") from None
    if len(inflated) > MAX_DECODED_BYTES or inflater.unconsumed_tail:
        raise InferenceProtocolError(
            f"the body inflates past {MAX_DECODED_BYTES} bytes; send smaller batches"
        )
    return inflated


def _split(body: bytes, header_length: str | int | None) -> tuple[bytes, memoryview]:
    if header_length is None:
        return body, memoryview(b"")
    try:
        length = int(header_length)
    except ValueError:
        raise InferenceProtocolError(
            f"Inference-Header-Content-Length must be a number of bytes, got {header_length!r}"
        ) from None
    if length < 0:
        raise InferenceProtocolError(f"Inference-Header-Content-Length must not be negative, got {length}")
    if length > len(body):
        raise InferenceProtocolError(
            f"Inference-Header-Content-Length says the JSON header has {length} bytes "
            f"but the body has only {len(body)}"
        )
    view = memoryview(body)
    return bytes(view[:length]), view[length:]


def _load_json(header: bytes, *, exact: bool = False) -> tuple[dict[str, Any], bool]:
    """The document, and whether it was read exactly (by the standard library) rather than by orjson."""
    if not header.strip():
        raise InferenceProtocolError("the request body is empty; send an inference request JSON object")
    document: Any = None
    if not exact:
        try:
            document = orjson.loads(header)
        except orjson.JSONDecodeError:
            exact = True  # NaN, a number too large for a double, or not JSON: the standard library says
    if exact:
        try:
            document = json.loads(header)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InferenceProtocolError(f"the request is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InferenceProtocolError(
            f"the request must be a JSON object with 'inputs', got {_json_kind(document)}"
        )
    return document, exact


def _lost_integers(document: dict[str, Any]) -> bool:
    """Whether a float that may be an integer beyond 64 bits is anywhere outside the inputs' data
    (the data is looked at in numpy, ``_numbers_from_json``)."""
    for key, value in document.items():
        if key == "inputs" and type(value) is list:
            for item in value:
                if type(item) is dict:
                    if any(_large_float(inner) for name, inner in item.items() if name != "data"):
                        return True
                elif _large_float(item):
                    return True
        elif _large_float(value):
            return True
    return False


def _large_float(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return bool(abs(value) >= _LOST_INTEGER)
    if kind is list:
        return any(map(_large_float, value))
    if kind is dict:
        return any(map(_large_float, value.values()))
    return False


def _parameters(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InferenceProtocolError(f"'parameters' of {where} must be a JSON object")
    unsupported = _UNSUPPORTED_PARAMETERS.intersection(raw)
    if unsupported:
        name = min(unsupported)
        raise InferenceProtocolError(f"{where}: parameters.{name} is not supported by this server")
    return raw


def _inputs(raw: Any, model: ModelMetadata, binary: memoryview, *, exact: bool) -> dict[str, Tensor]:
    if not isinstance(raw, list) or not raw:
        raise InferenceProtocolError(
            f"'inputs' must be a non-empty list of tensors; model '{model.name}' takes {_names(model.inputs)}"
        )
    tensors: dict[str, Tensor] = {}
    offset = 0
    for position, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InferenceProtocolError(f"inputs[{position}] must be a JSON object, got {_json_kind(item)}")
        name = item.get("name")
        if not isinstance(name, str):
            raise InferenceProtocolError(f"inputs[{position}] has no 'name' string")
        spec = model.input(name)
        if spec is None:
            raise InferenceProtocolError(
                f"unknown input '{name}'; model '{model.name}' takes {_names(model.inputs)}"
            )
        if name in tensors:
            raise InferenceProtocolError(f"input '{name}' appears twice")
        shape = _shape(item.get("shape"), spec)
        _check_datatype(item.get("datatype"), spec)
        parameters = _parameters(item.get("parameters"), f"input '{name}'")
        size = parameters.get("binary_data_size")
        if size is None:
            tensors[name] = _from_json(item, spec, shape, exact=exact)
        else:
            if "data" in item:
                raise InferenceProtocolError(
                    f"input '{name}' has both 'data' and parameters.binary_data_size; send one"
                )
            tensors[name] = _from_binary(binary, offset, size, spec, shape)
            offset += size
    if offset != len(binary):
        raise InferenceProtocolError(
            f"the body has {len(binary)} bytes of binary tensor data after the JSON header, but the "
            f"inputs' binary_data_size add up to {offset}"
        )
    missing = [spec.name for spec in model.inputs if not spec.optional and spec.name not in tensors]
    if missing:
        raise InferenceProtocolError(
            f"missing input{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}; "
            f"model '{model.name}' takes {_names(model.inputs)}"
        )
    return tensors


def _shape(raw: Any, spec: TensorSpec) -> list[int]:
    if not isinstance(raw, list) or not all(
        isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0 for dim in raw
    ):
        raise InferenceProtocolError(
            f"input '{spec.name}': 'shape' must be a list of sizes (integers >= 0), got {json.dumps(raw)}; "
            f"the model expects {_shape_text(spec.shape)}"
        )
    if not spec.accepts_shape(raw):
        raise InferenceProtocolError(
            f"input '{spec.name}' has shape {_shape_text(raw)}; the model expects {_shape_text(spec.shape)} "
            "(-1 is any size)"
        )
    return raw


def _check_datatype(raw: Any, spec: TensorSpec) -> None:
    if raw != spec.datatype:
        known = "" if raw in NUMPY_DTYPES else f" (the protocol's datatypes are {', '.join(DATATYPES)})"
        raise InferenceProtocolError(
            f"input '{spec.name}' has datatype {json.dumps(raw)}; the model expects {spec.datatype}{known}"
        )


def _from_binary(binary: memoryview, offset: int, size: Any, spec: TensorSpec, shape: list[int]) -> Tensor:
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InferenceProtocolError(
            f"input '{spec.name}': parameters.binary_data_size must be a number of bytes, "
            f"got {json.dumps(size)}"
        )
    if offset + size > len(binary):
        raise InferenceProtocolError(
            f"input '{spec.name}' declares binary_data_size {size} but only {len(binary) - offset} bytes "
            "of binary data remain in the body"
        )
    raw = binary[offset : offset + size]
    count = math.prod(shape)
    if spec.datatype == BYTES:
        return decode_bytes_elements(raw, count, name=spec.name).reshape(shape)
    dtype = numpy_dtype(spec.datatype)
    if size != count * dtype.itemsize:
        raise InferenceProtocolError(
            f"input '{spec.name}': binary_data_size is {size} bytes, but shape {_shape_text(shape)} of "
            f"{spec.datatype} needs {count * dtype.itemsize} ({count} x {dtype.itemsize})"
        )
    # A read-only view over the request body: no copy.
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def _from_json(item: dict[str, Any], spec: TensorSpec, shape: list[int], *, exact: bool) -> Tensor:
    data = item.get("data")
    if not isinstance(data, list):
        raise InferenceProtocolError(
            f"input '{spec.name}' has no data: send 'data' as a JSON list, or the tensor in binary with "
            "parameters.binary_data_size"
        )
    count = math.prod(shape)
    if spec.datatype == BYTES:
        tensor = _bytes_from_json(data, spec)
    else:
        tensor = _numbers_from_json(data, spec, exact=exact)
    if tensor.size != count:
        raise InferenceProtocolError(
            f"input '{spec.name}' has {tensor.size} elements, but shape {_shape_text(shape)} needs {count}"
        )
    return tensor.reshape(shape)


def _numbers_from_json(data: list[Any], spec: TensorSpec, *, exact: bool) -> Tensor:
    dtype = numpy_dtype(spec.datatype)
    try:
        # Nested (row-major) or flat lists both work; one C-level pass over the list.
        parsed = np.asarray(data)
    except ValueError:
        raise InferenceProtocolError(
            f"input '{spec.name}': 'data' is a ragged nested list; send it flat, or nested with equal rows"
        ) from None
    if parsed.size == 0:
        return parsed.astype(dtype)
    if not exact and parsed.dtype.kind == "f" and not bool((np.abs(parsed) < _LOST_INTEGER).all()):
        raise _Inexact  # perhaps an integer beyond 64 bits, which orjson read as a float
    if parsed.dtype.kind == "f" and dtype.kind in "iu":
        # numpy promotes integers past int64 (large UINT64 values) to float: look again, exactly.
        return _big_integers_from_json(data, spec, dtype)
    if parsed.dtype.kind not in _ACCEPTED_KINDS[dtype.kind]:
        raise InferenceProtocolError(
            f"input '{spec.name}' is {spec.datatype}: 'data' must hold only {_KIND_WORDS[dtype.kind]}, "
            f"got {_elements_kind(parsed)}"
        )
    if dtype.kind in "iu" and parsed.dtype != dtype:
        info = np.iinfo(dtype)
        low, high = parsed.min(), parsed.max()
        if low < info.min or high > info.max:
            raise InferenceProtocolError(
                f"input '{spec.name}' is {spec.datatype}: values must lie in [{info.min}, {info.max}], "
                f"got {low if low < info.min else high}"
            )
    return parsed.astype(dtype, copy=False)


def _big_integers_from_json(data: list[Any], spec: TensorSpec, dtype: np.dtype[Any]) -> Tensor:
    """The rare path: a float array that may be integers beyond int64; checked element by element."""
    exact = np.asarray(data, dtype=object).ravel()
    if not all(type(value) is int for value in exact):
        raise InferenceProtocolError(
            f"input '{spec.name}' is {spec.datatype}: 'data' must hold only integers, "
            "got numbers with decimals"
        )
    info = np.iinfo(dtype)
    low, high = min(exact), max(exact)
    if low < info.min or high > info.max:
        raise InferenceProtocolError(
            f"input '{spec.name}' is {spec.datatype}: values must lie in [{info.min}, {info.max}], "
            f"got {low if low < info.min else high}"
        )
    return np.asarray(data, dtype=dtype)


def _bytes_from_json(data: list[Any], spec: TensorSpec) -> Tensor:
    flat = _flatten(data)
    out = np.empty(len(flat), dtype=object)
    for index, item in enumerate(flat):
        if not isinstance(item, str):
            raise InferenceProtocolError(
                f"input '{spec.name}' is BYTES: 'data' must hold strings, got {_json_kind(item)} "
                f"at element {index}"
            )
        out[index] = item.encode()
    return out


def _flatten(data: list[Any]) -> list[Any]:
    if not any(isinstance(item, list) for item in data):
        return data
    flat: list[Any] = []
    for item in data:
        flat.extend(_flatten(item) if isinstance(item, list) else [item])
    return flat


def _outputs(raw: Any, model: ModelMetadata, binary_default: bool) -> tuple[RequestedOutput, ...]:
    if raw is None:
        return tuple(RequestedOutput(spec.name, binary_default) for spec in model.outputs)
    if not isinstance(raw, list):
        raise InferenceProtocolError("'outputs' must be a list of {\"name\": ...} objects")
    requested: list[RequestedOutput] = []
    seen: set[str] = set()
    for position, item in enumerate(raw):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise InferenceProtocolError(f"outputs[{position}] must be an object with a 'name' string")
        if model.output(name) is None:
            raise InferenceProtocolError(
                f"unknown output '{name}'; model '{model.name}' answers {_names(model.outputs)}"
            )
        if name in seen:
            raise InferenceProtocolError(f"output '{name}' is requested twice")
        seen.add(name)
        parameters = _parameters(item.get("parameters"), f"output '{name}'")
        binary = parameters.get("binary_data", binary_default)
        if not isinstance(binary, bool):
            raise InferenceProtocolError(f"output '{name}': parameters.binary_data must be true or false")
        requested.append(RequestedOutput(name, binary))
    return tuple(requested)


def _names(specs: tuple[TensorSpec, ...]) -> str:
    return ", ".join(f"'{spec.name}' ({spec.datatype} {_shape_text(spec.shape)})" for spec in specs)


def _shape_text(shape: tuple[int, ...] | list[int]) -> str:
    return "[" + ", ".join(str(dim) for dim in shape) + "]"


def _elements_kind(parsed: Tensor) -> str:
    kind = parsed.dtype.kind
    return {"b": "booleans", "U": "strings", "O": "mixed values", "f": "numbers with decimals"}.get(
        kind, "integers"
    )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "an object"
    )
