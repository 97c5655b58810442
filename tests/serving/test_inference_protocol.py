"""The Open Inference Protocol codec: every datatype both ways, every client mistake named.

Request bodies come from the real ``tritonclient`` (``generate_request_body``) where it can build them,
and responses are read back with its ``parse_response_body``: what passes here is what a standard
client sends and understands. Hand-built bodies cover the mistakes a correct client never makes.
"""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from typing import Any

import numpy as np
import pytest
import tritonclient.http as triton

from kiln.serving.inference_protocol import (
    DATATYPES,
    HEADER_LENGTH,
    InferenceProtocolError,
    InferRequest,
    ModelMetadata,
    RequestedOutput,
    TensorSpec,
    encode_infer_response,
    parse_infer_request,
    unknown_model,
)

SAMPLES: dict[str, np.ndarray] = {
    "BOOL": np.array([[True, False, True]]),
    "UINT8": np.array([[0, 7, 255]], dtype=np.uint8),
    "UINT16": np.array([[0, 7, 65535]], dtype=np.uint16),
    "UINT32": np.array([[0, 7, 2**32 - 1]], dtype=np.uint32),
    "UINT64": np.array([[0, 7, 2**64 - 1]], dtype=np.uint64),
    "INT8": np.array([[-128, 0, 127]], dtype=np.int8),
    "INT16": np.array([[-(2**15), 0, 2**15 - 1]], dtype=np.int16),
    "INT32": np.array([[-(2**31), 0, 2**31 - 1]], dtype=np.int32),
    "INT64": np.array([[-(2**63), 0, 2**63 - 1]], dtype=np.int64),
    "FP16": np.array([[-1.5, 0.0, 65504.0]], dtype=np.float16),
    "FP32": np.array([[-1.25, 0.0, 3.4e38]], dtype=np.float32),
    "FP64": np.array([[-1e300, 0.1, 2.5]], dtype=np.float64),
    "BYTES": np.array([[b"fraud", b"", "caf\u00e9".encode()]], dtype=object),
}


def echo_model(datatype: str, shape: tuple[int, ...] = (-1, 3)) -> ModelMetadata:
    return ModelMetadata(
        name="echo",
        versions=("1",),
        inputs=(TensorSpec("x", datatype, shape),),
        outputs=(TensorSpec("y", datatype, shape),),
    )


SUM = ModelMetadata(
    name="sum",
    versions=("1", "2"),
    inputs=(TensorSpec("input", "FP64", (-1, 3)), TensorSpec("weight", "FP32", (1,), optional=True)),
    outputs=(TensorSpec("total", "FP64", (-1,)), TensorSpec("label", "BYTES", (-1,))),
)


def client_body(
    inputs: list[tuple[str, str, np.ndarray, bool]],
    outputs: list[tuple[str, bool]] | None = None,
    request_id: str = "",
) -> tuple[bytes, int | None]:
    """What tritonclient sends: the body, and its Inference-Header-Content-Length (None when JSON only)."""
    infer_inputs = []
    for name, datatype, array, binary in inputs:
        tensor = triton.InferInput(name, list(array.shape), datatype)
        tensor.set_data_from_numpy(array, binary_data=binary)
        infer_inputs.append(tensor)
    requested = [triton.InferRequestedOutput(name, binary_data=b) for name, b in outputs or []]
    body, header_length = triton.InferenceServerClient.generate_request_body(
        infer_inputs, outputs=requested or None, request_id=request_id
    )
    return body, header_length


def as_client_reads(body: bytes, headers: dict[str, str]) -> Any:
    length = headers.get(HEADER_LENGTH)
    return triton.InferenceServerClient.parse_response_body(
        body, header_length=int(length) if length is not None else None
    )


def refused(body: bytes | str, model: ModelMetadata = SUM, **kwargs: Any) -> InferenceProtocolError:
    raw = body.encode() if isinstance(body, str) else body
    with pytest.raises(InferenceProtocolError) as caught:
        parse_infer_request(raw, model, **kwargs)
    assert caught.value.status == 400
    assert json.loads(caught.value.body()) == {"error": caught.value.message}
    return caught.value


def tensor(name: str, datatype: str, shape: list[int], data: Any = None, **parameters: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"name": name, "datatype": datatype, "shape": shape}
    if data is not None:
        item["data"] = data
    if parameters:
        item["parameters"] = parameters
    return item


def request(*inputs: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"inputs": list(inputs), **extra})


GOOD_ROW = tensor("input", "FP64", [1, 3], [1.0, 2.0, 3.0])


class TestDatatypeRoundTrips:
    @pytest.mark.parametrize("datatype", DATATYPES)
    @pytest.mark.parametrize(("binary_in", "binary_out"), [(False, False), (True, True), (False, True)])
    def test_tritonclient_tensors_come_back_equal(
        self, datatype: str, binary_in: bool, binary_out: bool
    ) -> None:
        sample = SAMPLES[datatype]
        model = echo_model(datatype)
        body, header_length = client_body([("x", datatype, sample, binary_in)], [("y", binary_out)], "r-1")

        parsed = parse_infer_request(body, model, header_length=header_length)
        assert parsed.inputs["x"].dtype == sample.dtype
        assert parsed.inputs["x"].shape == sample.shape
        np.testing.assert_array_equal(parsed.inputs["x"], sample)

        answer, headers = encode_infer_response(model, "1", parsed, {"y": parsed.inputs["x"]})
        result = as_client_reads(answer, headers)
        expected = sample
        if datatype == "BYTES" and not binary_out:
            expected = np.vectorize(bytes.decode, otypes=[object])(sample)  # JSON carries text
        np.testing.assert_array_equal(result.as_numpy("y"), expected)
        assert result.get_response()["id"] == "r-1"
        assert result.get_response()["model_version"] == "1"

    def test_all_protocol_datatypes_are_covered(self) -> None:
        assert set(DATATYPES) == set(SAMPLES)

    def test_json_data_may_be_nested_row_major(self) -> None:
        parsed = parse_infer_request(
            request(tensor("input", "FP64", [2, 3], [[1, 2, 3], [4, 5, 6]])).encode(), SUM
        )
        np.testing.assert_array_equal(parsed.inputs["input"], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        assert parsed.inputs["input"].dtype == np.float64

    def test_json_bytes_arrive_as_utf8_bytes(self) -> None:
        model = echo_model("BYTES", (-1,))
        parsed = parse_infer_request(request(tensor("x", "BYTES", [2], ["caf\u00e9", "b"])).encode(), model)
        assert parsed.inputs["x"].tolist() == ["caf\u00e9".encode(), b"b"]

    def test_binary_tensors_are_views_over_the_body_not_copies(self) -> None:
        rows = np.random.default_rng(7).random((1000, 3))
        body, header_length = client_body([("input", "FP64", rows, True)])
        parsed = parse_infer_request(body, SUM, header_length=header_length)
        np.testing.assert_array_equal(parsed.inputs["input"], rows)
        assert parsed.inputs["input"].base is not None
        assert not parsed.inputs["input"].flags.writeable

    def test_no_content_type_is_needed_and_an_optional_input_may_be_left_out(self) -> None:
        # tritonclient sends no Content-Type: the codec never looks at one.
        parsed = parse_infer_request(request(GOOD_ROW).encode(), SUM)
        assert set(parsed.inputs) == {"input"}

    @pytest.mark.parametrize("encoding", ["gzip", "deflate"])
    def test_compressed_bodies_are_inflated(self, encoding: str) -> None:
        body, header_length = client_body([("input", "FP64", np.ones((2, 3)), True)])
        packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
        parsed = parse_infer_request(packed, SUM, header_length=header_length, content_encoding=encoding)
        np.testing.assert_array_equal(parsed.inputs["input"], np.ones((2, 3)))


class TestRequestedOutputs:
    def test_without_outputs_every_declared_output_comes_back_in_json(self) -> None:
        parsed = parse_infer_request(request(GOOD_ROW, id="abc").encode(), SUM)
        assert parsed.id == "abc"
        assert parsed.outputs == (RequestedOutput("total", False), RequestedOutput("label", False))

    def test_binary_data_output_asks_for_every_output_in_binary(self) -> None:
        # What tritonclient sends when the caller names no outputs.
        body, header_length = client_body([("input", "FP64", np.ones((1, 3)), True)])
        parsed = parse_infer_request(body, SUM, header_length=header_length)
        assert parsed.outputs == (RequestedOutput("total", True), RequestedOutput("label", True))

    def test_each_output_may_choose_binary_or_json(self) -> None:
        body, _ = client_body(
            [("input", "FP64", np.ones((1, 3)), False)], [("label", True), ("total", False)]
        )
        parsed = parse_infer_request(body, SUM)
        assert parsed.outputs == (RequestedOutput("label", True), RequestedOutput("total", False))

    def test_unknown_output(self) -> None:
        error = refused(request(GOOD_ROW, outputs=[{"name": "score"}]))
        assert "unknown output 'score'" in error.message
        assert "'total' (FP64 [-1])" in error.message

    def test_binary_data_must_be_a_boolean(self) -> None:
        error = refused(request(GOOD_ROW, outputs=[{"name": "total", "parameters": {"binary_data": "yes"}}]))
        assert "output 'total': parameters.binary_data must be true or false" in error.message

    def test_classification_is_refused_not_ignored(self) -> None:
        error = refused(request(GOOD_ROW, outputs=[{"name": "total", "parameters": {"classification": 2}}]))
        assert "classification is not supported" in error.message


class TestBodyMistakes:
    def test_malformed_json(self) -> None:
        assert "not valid JSON" in refused('{"inputs": [').message

    def test_empty_body(self) -> None:
        assert "the request body is empty" in refused(b"").message

    def test_json_that_is_not_an_object(self) -> None:
        assert "must be a JSON object with 'inputs', got a list" in refused("[1, 2]").message

    def test_no_inputs(self) -> None:
        error = refused('{"id": "a"}')
        assert "'inputs' must be a non-empty list" in error.message
        assert "'input' (FP64 [-1, 3])" in error.message

    def test_id_must_be_a_string(self) -> None:
        assert "'id' must be a string, got a number" in refused(request(GOOD_ROW, id=7)).message

    def test_header_length_longer_than_the_body(self) -> None:
        body, header_length = client_body([("input", "FP64", np.ones((1, 3)), True)])
        assert header_length is not None
        error = refused(body[: header_length - 5], header_length=header_length)
        assert f"says the JSON header has {header_length} bytes but the body has only" in error.message

    def test_header_length_that_is_not_a_number(self) -> None:
        error = refused(request(GOOD_ROW), header_length="twelve")
        assert "Inference-Header-Content-Length must be a number of bytes, got 'twelve'" in error.message

    def test_binary_body_cut_short(self) -> None:
        body, header_length = client_body([("input", "FP64", np.ones((2, 3)), True)])
        error = refused(body[:-8], header_length=header_length)
        assert "input 'input' declares binary_data_size 48 but only 40 bytes" in error.message

    def test_binary_bytes_left_over(self) -> None:
        body, header_length = client_body([("input", "FP64", np.ones((1, 3)), True)])
        error = refused(body + b"\x00" * 8, header_length=header_length)
        assert "32 bytes of binary tensor data after the JSON header" in error.message
        assert "add up to 24" in error.message

    def test_unknown_content_encoding(self) -> None:
        assert (
            "unsupported Content-Encoding 'br'" in refused(request(GOOD_ROW), content_encoding="br").message
        )

    def test_corrupt_gzip(self) -> None:
        assert "not valid gzip data" in refused(b"not gzip", content_encoding="gzip").message


class TestInputMistakes:
    def test_unknown_input(self) -> None:
        error = refused(request(GOOD_ROW, tensor("latency", "FP64", [1], [1.0])))
        assert "unknown input 'latency'; model 'sum' takes 'input' (FP64 [-1, 3]), 'weight'" in error.message

    def test_missing_input(self) -> None:
        error = refused(request(tensor("weight", "FP32", [1], [1.0])))
        assert "missing input 'input'" in error.message

    def test_duplicate_input(self) -> None:
        assert "input 'input' appears twice" in refused(request(GOOD_ROW, GOOD_ROW)).message

    def test_wrong_datatype(self) -> None:
        error = refused(request(tensor("input", "FP32", [1, 3], [1.0, 2.0, 3.0])))
        assert "input 'input' has datatype \"FP32\"; the model expects FP64" in error.message

    def test_a_datatype_the_protocol_does_not_know(self) -> None:
        error = refused(request(tensor("input", "FLOAT", [1, 3], [1.0, 2.0, 3.0])))
        assert "the model expects FP64 (the protocol's datatypes are BOOL, UINT8" in error.message

    @pytest.mark.parametrize(("shape", "why"), [([3], "[3]"), ([1, 4], "[1, 4]"), ([1, 3, 1], "[1, 3, 1]")])
    def test_shape_that_does_not_match_the_declared_one(self, shape: list[int], why: str) -> None:
        error = refused(request(tensor("input", "FP64", shape, [1.0] * 3)))
        assert f"input 'input' has shape {why}; the model expects [-1, 3]" in error.message

    @pytest.mark.parametrize("shape", [[-1, 3], [1.5, 3], "1,3", None, [True, 3]])
    def test_shape_that_is_not_a_list_of_sizes(self, shape: Any) -> None:
        error = refused(request(tensor("input", "FP64", shape, [1.0] * 3)))
        assert "'shape' must be a list of sizes (integers >= 0)" in error.message

    def test_element_count_that_does_not_match_the_shape(self) -> None:
        error = refused(request(tensor("input", "FP64", [2, 3], [1.0, 2.0, 3.0])))
        assert "input 'input' has 3 elements, but shape [2, 3] needs 6" in error.message

    def test_no_data_at_all(self) -> None:
        assert "input 'input' has no data" in refused(request(tensor("input", "FP64", [1, 3]))).message

    def test_data_and_binary_both(self) -> None:
        item = tensor("input", "FP64", [1, 3], [1.0, 2.0, 3.0], binary_data_size=24)
        assert "has both 'data' and parameters.binary_data_size" in refused(request(item)).message

    def test_binary_size_that_does_not_match_the_shape(self) -> None:
        header = request(tensor("input", "FP64", [1, 3], binary_data_size=16)).encode()
        error = refused(header + b"\x00" * 16, header_length=len(header))
        assert "binary_data_size is 16 bytes, but shape [1, 3] of FP64 needs 24 (3 x 8)" in error.message

    def test_binary_size_that_is_not_a_number(self) -> None:
        header = request(tensor("input", "FP64", [1, 3], binary_data_size="24")).encode()
        error = refused(header + b"\x00" * 24, header_length=len(header))
        assert "parameters.binary_data_size must be a number of bytes" in error.message

    def test_ragged_nested_data(self) -> None:
        error = refused(request(tensor("input", "FP64", [2, 3], [[1, 2, 3], [4, 5]])))
        assert "'data' is a ragged nested list" in error.message

    @pytest.mark.parametrize(
        ("datatype", "data", "expected"),
        [
            ("FP64", [1.0, "a", 3.0], "must hold only numbers, got strings"),
            ("FP64", [1.0, None, 3.0], "must hold only numbers, got mixed values"),
            ("INT64", [1.5, 2.0, 3.0], "must hold only integers, got numbers with decimals"),
            ("BOOL", [1, 0, 1], "must hold only booleans (true/false), got integers"),
        ],
    )
    def test_json_values_of_the_wrong_kind(self, datatype: str, data: list[Any], expected: str) -> None:
        model = echo_model(datatype)
        error = refused(request(tensor("x", datatype, [1, 3], data)), model)
        assert f"input 'x' is {datatype}: 'data' {expected}" in error.message

    @pytest.mark.parametrize(("datatype", "value"), [("INT8", 128), ("UINT8", -1), ("UINT16", 70000)])
    def test_integers_out_of_the_datatype_range(self, datatype: str, value: int) -> None:
        error = refused(request(tensor("x", datatype, [1, 3], [0, value, 1])), echo_model(datatype))
        assert f"input 'x' is {datatype}: values must lie in" in error.message
        assert f"got {value}" in error.message

    def test_bytes_json_that_is_not_strings(self) -> None:
        error = refused(request(tensor("x", "BYTES", [1, 3], ["a", 2, "c"])), echo_model("BYTES"))
        assert "input 'x' is BYTES: 'data' must hold strings, got a number at element 1" in error.message

    def test_bytes_binary_cut_inside_an_element(self) -> None:
        raw = struct.pack("<I", 5) + b"fraud" + struct.pack("<I", 9) + b"abc"
        header = request(tensor("x", "BYTES", [1, 2], binary_data_size=len(raw))).encode()
        error = refused(header + raw, echo_model("BYTES", (-1, 2)), header_length=len(header))
        assert "BYTES element 1 says 9 bytes but only 3 remain" in error.message

    def test_bytes_binary_with_fewer_elements_than_the_shape(self) -> None:
        raw = struct.pack("<I", 5) + b"fraud"
        header = request(tensor("x", "BYTES", [1, 2], binary_data_size=len(raw))).encode()
        error = refused(header + raw, echo_model("BYTES", (-1, 2)), header_length=len(header))
        assert "BYTES data ends at element 1 of 2" in error.message

    def test_shared_memory_is_refused_not_ignored(self) -> None:
        item = tensor("input", "FP64", [1, 3], shared_memory_region="r", shared_memory_byte_size=24)
        assert "shared_memory_region is not supported" in refused(request(item)).message


class TestModelAndVersion:
    def test_unknown_model_is_400_as_in_triton(self) -> None:
        error = unknown_model("fraud", ["sum", "echo"])
        status, body, headers = error.response()
        assert status == 400
        assert json.loads(body) == {"error": "unknown model 'fraud'; this server has echo, sum"}
        assert headers == {"Content-Type": "application/json"}

    def test_unknown_version_is_404_as_in_triton(self) -> None:
        with pytest.raises(InferenceProtocolError) as caught:
            SUM.resolve_version("7")
        assert caught.value.status == 404
        assert caught.value.message == "model 'sum' has no version '7'; its versions are: 1, 2"

    def test_no_version_reaches_the_default_then_the_newest(self) -> None:
        assert SUM.resolve_version(None) == "2"
        pinned = ModelMetadata("m", ("1", "2"), SUM.inputs, SUM.outputs, default_version="1")
        assert pinned.resolve_version("") == "1"
        assert pinned.resolve_version("2") == "2"


class TestResponses:
    def parsed(self, *outputs: RequestedOutput, request_id: str | None = "req-9") -> InferRequest:
        return InferRequest(id=request_id, inputs={}, outputs=outputs, parameters={})

    def test_json_response_names_model_version_id_and_outputs(self) -> None:
        request_ = self.parsed(RequestedOutput("total", False), RequestedOutput("label", False))
        body, headers = encode_infer_response(
            SUM, "2", request_, {"total": np.array([6.0, 15.0]), "label": np.array(["low", "high"])}
        )
        assert headers == {"Content-Type": "application/json"}
        assert json.loads(body) == {
            "model_name": "sum",
            "model_version": "2",
            "id": "req-9",
            "outputs": [
                {"name": "total", "datatype": "FP64", "shape": [2], "data": [6.0, 15.0]},
                {"name": "label", "datatype": "BYTES", "shape": [2], "data": ["low", "high"]},
            ],
        }

    def test_no_id_when_the_request_had_none(self) -> None:
        body, _ = encode_infer_response(
            SUM, "1", self.parsed(RequestedOutput("total", False), request_id=None), {"total": [1.0]}
        )
        assert "id" not in json.loads(body)

    def test_binary_response_puts_raw_tensors_after_the_header(self) -> None:
        request_ = self.parsed(RequestedOutput("total", True), RequestedOutput("label", False))
        totals = np.array([6.0, 15.0])
        body, headers = encode_infer_response(SUM, "1", request_, {"total": totals, "label": [b"a", b"b"]})
        assert headers["Content-Type"] == "application/octet-stream"
        length = int(headers[HEADER_LENGTH])
        header = json.loads(body[:length])
        assert header["outputs"][0] == {
            "name": "total",
            "datatype": "FP64",
            "shape": [2],
            "parameters": {"binary_data_size": 16},
        }
        assert header["outputs"][1]["data"] == ["a", "b"]
        assert body[length:] == totals.astype("<f8").tobytes()

    def test_outputs_are_cast_to_their_declared_datatype(self) -> None:
        body, _ = encode_infer_response(
            SUM, "1", self.parsed(RequestedOutput("total", True)), {"total": np.array([1, 2], dtype=np.int32)}
        )
        result = as_client_reads(body, {HEADER_LENGTH: str(body.index(b"}]}") + 3)})
        assert result.as_numpy("total").dtype == np.float64

    def test_a_missing_output_is_our_fault(self) -> None:
        with pytest.raises(InferenceProtocolError) as caught:
            encode_infer_response(SUM, "1", self.parsed(RequestedOutput("label", False)), {"total": [1.0]})
        assert caught.value.status == 500
        assert "produced no output 'label'" in caught.value.message

    def test_non_text_bytes_cannot_go_out_as_json(self) -> None:
        with pytest.raises(InferenceProtocolError) as caught:
            encode_infer_response(
                SUM, "1", self.parsed(RequestedOutput("label", False)), {"label": [b"\xff"]}
            )
        assert "request it with parameters.binary_data true" in caught.value.message


class TestJsonReadersAgree:
    """orjson reads the body; wherever it would read it otherwise than the standard library (integers
    beyond 64 bits, NaN and Infinity), the answer is the standard library's, as before."""

    @pytest.mark.parametrize(("datatype", "value"), [("UINT64", 2**64), ("INT64", -(2**63) - 1)])
    def test_integers_beyond_64_bits_are_not_read_as_doubles(self, datatype: str, value: int) -> None:
        error = refused(request(tensor("x", datatype, [1, 3], [0, value, 1])), echo_model(datatype))
        assert error.message == f"input 'x' is {datatype}: 'data' must hold only integers, got mixed values"

    def test_a_double_beyond_64_bits_is_not_an_integer(self) -> None:
        error = refused(request(tensor("x", "INT64", [1, 3], [1e19, 1, 1])), echo_model("INT64"))
        assert "must hold only integers, got numbers with decimals" in error.message

    def test_an_integer_beyond_64_bits_is_not_a_double(self) -> None:
        error = refused(request(tensor("input", "FP64", [1, 3], [1, 2**70, 3])))
        assert "input 'input' is FP64: 'data' must hold only numbers, got mixed values" in error.message

    def test_a_shape_beyond_64_bits_is_quoted_as_sent(self) -> None:
        error = refused(request(tensor("input", "FP64", [2**64, 3], [1.0, 2.0, 3.0])))
        assert "but shape [18446744073709551616, 3] needs 55340232221128654848" in error.message

    def test_large_doubles_are_still_doubles(self) -> None:
        parsed = parse_infer_request(
            request(tensor("input", "FP64", [1, 3], [1e300, -3.4e38, 1.0])).encode(), SUM
        )
        assert parsed.inputs["input"].tolist() == [[1e300, -3.4e38, 1.0]]

    def test_nan_and_infinity_literals_are_read(self) -> None:
        body = (
            '{"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 3], "data": [NaN, Infinity, 1]}]}'
        )
        values = parse_infer_request(body.encode(), SUM).inputs["input"]
        assert np.isnan(values[0, 0])
        assert values[0, 1:].tolist() == [np.inf, 1.0]

    def test_nan_goes_out_as_nan_and_float32_as_before(self) -> None:
        model = echo_model("FP32", (-1,))
        parsed = InferRequest(id=None, inputs={}, outputs=(RequestedOutput("y", False),), parameters={})
        body, _ = encode_infer_response(model, "1", parsed, {"y": np.array([0.1], dtype=np.float32)})
        assert json.loads(body)["outputs"][0]["data"] == [float(np.float32(0.1))]
        model = echo_model("FP64", (-1,))
        body, _ = encode_infer_response(model, "1", parsed, {"y": np.array([np.nan, 2.5])})
        assert b"[NaN,2.5]" in body
