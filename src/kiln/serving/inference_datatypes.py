"""The protocol's tensor datatypes, their numpy dtypes, and the BYTES wire format.

Fixed-size datatypes travel as their little-endian raw bytes (binary extension) or as JSON numbers
and booleans. BYTES elements travel as JSON strings, or in binary as a 4-byte little-endian length
followed by the element's bytes; in numpy a BYTES tensor is an ``object`` array of ``bytes``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from kiln.serving.inference_errors import InferenceProtocolError

Tensor = npt.NDArray[Any]

BYTES = "BYTES"

# Explicit little-endian dtypes: the wire is little-endian whatever the machine is.
NUMPY_DTYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype("?"),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
    BYTES: np.dtype(object),
}
DATATYPES: tuple[str, ...] = tuple(NUMPY_DTYPES)

_BY_KIND_AND_SIZE: dict[tuple[str, int], str] = {
    (dtype.kind, dtype.itemsize): name for name, dtype in NUMPY_DTYPES.items() if name != BYTES
}


def numpy_dtype(datatype: str) -> np.dtype[Any]:
    """The numpy dtype of a protocol datatype; an error naming the accepted ones otherwise."""
    dtype = NUMPY_DTYPES.get(datatype)
    if dtype is None:
        raise InferenceProtocolError(f"unsupported datatype {datatype!r}; use one of {', '.join(DATATYPES)}")
    return dtype


def datatype_of(dtype: npt.DTypeLike) -> str:
    """The protocol datatype of a numpy dtype (strings and objects are BYTES)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSU":
        return BYTES
    name = _BY_KIND_AND_SIZE.get((dtype.kind, dtype.itemsize))
    if name is None:
        raise ValueError(f"numpy dtype {dtype} has no Open Inference Protocol datatype")
    return name


def encode_bytes_elements(tensor: Tensor) -> bytes:
    """The binary BYTES format: each element as a 4-byte little-endian length, then its bytes."""
    parts: list[bytes] = []
    for item in tensor.ravel():
        element = as_element_bytes(item)
        parts.append(len(element).to_bytes(4, "little"))
        parts.append(element)
    return b"".join(parts)


def decode_bytes_elements(raw: memoryview | bytes, count: int, *, name: str) -> Tensor:
    """``count`` length-prefixed elements that fill ``raw`` exactly, as an object array of bytes."""
    data = bytes(raw)
    out = np.empty(count, dtype=object)
    offset, end = 0, len(data)
    for index in range(count):
        if offset + 4 > end:
            raise InferenceProtocolError(
                f"input '{name}': BYTES data ends at element {index} of {count}; "
                "each element is a 4-byte little-endian length followed by that many bytes"
            )
        length = int.from_bytes(data[offset : offset + 4], "little")
        offset += 4
        if offset + length > end:
            raise InferenceProtocolError(
                f"input '{name}': BYTES element {index} says {length} bytes but only "
                f"{end - offset} remain in its binary_data_size"
            )
        out[index] = data[offset : offset + length]
        offset += length
    if offset != end:
        raise InferenceProtocolError(
            f"input '{name}': {end - offset} bytes are left after the {count} BYTES elements "
            "its shape declares; binary_data_size must cover exactly those elements"
        )
    return out


def as_element_bytes(item: Any) -> bytes:
    """One BYTES element: bytes as they are, text as UTF-8, anything else as its text form."""
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode()
    if isinstance(item, np.generic):
        item = item.item()
    return str(item).encode()
