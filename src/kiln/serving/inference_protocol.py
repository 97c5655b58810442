"""The Open Inference Protocol (KServe v2 / Triton REST) codec: one import for the routes.

Pure functions and small dataclasses, no web framework: an HTTP route reads the body and two headers,
calls ``parse_infer_request``, runs the model, and answers what ``encode_infer_response`` returns; on
``InferenceProtocolError`` it answers ``error.response()``. The pieces live in ``inference_*`` modules
(datatypes, tensors, request, response, metadata, errors); this module only gathers their public names.
"""

from __future__ import annotations

from kiln.serving.inference_datatypes import DATATYPES, NUMPY_DTYPES, datatype_of, numpy_dtype
from kiln.serving.inference_errors import (
    InferenceProtocolError,
    model_not_ready,
    unknown_model,
    unknown_version,
)
from kiln.serving.inference_metadata import (
    EXTENSIONS,
    MATRIX_INPUT,
    PROBABILITIES,
    metadata_from_signature,
    model_metadata_document,
    server_metadata,
)
from kiln.serving.inference_request import parse_infer_request
from kiln.serving.inference_response import HEADER_LENGTH, encode_infer_response
from kiln.serving.inference_tensors import InferRequest, ModelMetadata, RequestedOutput, TensorSpec

__all__ = [
    "DATATYPES",
    "EXTENSIONS",
    "HEADER_LENGTH",
    "MATRIX_INPUT",
    "NUMPY_DTYPES",
    "PROBABILITIES",
    "InferRequest",
    "InferenceProtocolError",
    "ModelMetadata",
    "RequestedOutput",
    "TensorSpec",
    "datatype_of",
    "encode_infer_response",
    "metadata_from_signature",
    "model_metadata_document",
    "model_not_ready",
    "numpy_dtype",
    "parse_infer_request",
    "server_metadata",
    "unknown_model",
    "unknown_version",
]
