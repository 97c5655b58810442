"""The real ``tritonclient[http]`` against the OIP codec, over real HTTP (uvicorn on a loopback port).

The ASGI app is defined here, in the test, as thin as the coming serving routes will be: it reads the
body and two headers, calls the codec, runs a trivial numpy model (the sum of each row) and answers
what the codec returns. The client is tritonclient's own, in JSON and in binary mode.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from fastapi import FastAPI, Request, Response
from tritonclient.utils import InferenceServerException

from kiln.serving.inference_protocol import (
    HEADER_LENGTH,
    InferenceProtocolError,
    ModelMetadata,
    TensorSpec,
    encode_infer_response,
    model_metadata_document,
    parse_infer_request,
    server_metadata,
    unknown_model,
)
from tests.live_server import serve

ROW_SUM = ModelMetadata(
    name="row_sum",
    versions=("1", "2"),
    inputs=(TensorSpec("input", "FP64", (-1, 3)),),
    outputs=(TensorSpec("total", "FP64", (-1,)), TensorSpec("label", "BYTES", (-1,))),
    platform="kiln_numpy",
)
MODELS = {ROW_SUM.name: ROW_SUM}


def predict(rows: np.ndarray) -> dict[str, Any]:
    totals = rows.sum(axis=1)
    return {"total": totals, "label": np.where(totals > 10, b"high", b"low").astype(object)}


def build_app(client_ports: list[int]) -> FastAPI:
    app = FastAPI()

    def protocol_error(error: InferenceProtocolError) -> Response:
        status, body, headers = error.response()
        return Response(body, status_code=status, headers=headers)

    def json_response(document: dict[str, Any]) -> Response:
        return Response(json.dumps(document), media_type="application/json")

    def find(name: str, version: str | None) -> tuple[ModelMetadata, str]:
        model = MODELS.get(name)
        if model is None:
            raise unknown_model(name, list(MODELS))
        return model, model.resolve_version(version)

    @app.get("/healthz")
    @app.get("/v2/health/live")
    @app.get("/v2/health/ready")
    def healthy() -> Response:
        return Response(status_code=200)

    @app.get("/v2")
    def metadata() -> Response:
        return json_response(server_metadata())

    @app.get("/v2/models/{name}")
    @app.get("/v2/models/{name}/versions/{version}")
    def model_metadata(name: str, version: str | None = None) -> Response:
        try:
            model, _ = find(name, version)
        except InferenceProtocolError as error:
            return protocol_error(error)
        return json_response(model_metadata_document(model))

    @app.get("/v2/models/{name}/ready")
    @app.get("/v2/models/{name}/versions/{version}/ready")
    def model_ready(name: str, version: str | None = None) -> Response:
        try:
            find(name, version)
        except InferenceProtocolError as error:
            return protocol_error(error)
        return Response(status_code=200)

    @app.post("/v2/models/{name}/infer")
    @app.post("/v2/models/{name}/versions/{version}/infer")
    async def infer(request: Request, name: str, version: str | None = None) -> Response:
        assert request.client is not None
        client_ports.append(request.client.port)
        try:
            model, resolved = find(name, version)
            parsed = parse_infer_request(
                await request.body(),
                model,
                header_length=request.headers.get(HEADER_LENGTH),
                content_encoding=request.headers.get("content-encoding"),
            )
            body, headers = encode_infer_response(model, resolved, parsed, predict(parsed.inputs["input"]))
        except InferenceProtocolError as error:
            return protocol_error(error)
        return Response(body, headers=headers)

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[int]]]:
    client_ports: list[int] = []
    with serve(build_app(client_ports)) as url:
        yield url, client_ports


@pytest.fixture
def client(server: tuple[str, list[int]]) -> Iterator[triton.InferenceServerClient]:
    url, _ = server
    # One connection: a request after an error must reuse it (keep-alive survives the error).
    connection = triton.InferenceServerClient(url=url.removeprefix("http://"), concurrency=1)
    yield connection
    connection.close()


def rows_input(rows: np.ndarray, *, binary: bool, datatype: str = "FP64") -> triton.InferInput:
    tensor = triton.InferInput("input", list(rows.shape), datatype)
    tensor.set_data_from_numpy(rows, binary_data=binary)
    return tensor


ROWS = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]])


class TestHealthAndMetadata:
    def test_server_and_model_health(self, client: triton.InferenceServerClient) -> None:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready("row_sum")
        assert client.is_model_ready("row_sum", model_version="1")
        assert not client.is_model_ready("row_sum", model_version="9")
        assert not client.is_model_ready("fraud")

    def test_server_metadata_advertises_binary_tensors(self, client: triton.InferenceServerClient) -> None:
        metadata = client.get_server_metadata()
        assert metadata["name"] == "kiln"
        assert "binary_tensor_data" in metadata["extensions"]

    def test_model_metadata_lists_versions_and_tensors(self, client: triton.InferenceServerClient) -> None:
        assert client.get_model_metadata("row_sum") == {
            "name": "row_sum",
            "versions": ["1", "2"],
            "platform": "kiln_numpy",
            "inputs": [{"name": "input", "datatype": "FP64", "shape": [-1, 3]}],
            "outputs": [
                {"name": "total", "datatype": "FP64", "shape": [-1]},
                {"name": "label", "datatype": "BYTES", "shape": [-1]},
            ],
        }
        assert client.get_model_metadata("row_sum", model_version="2")["name"] == "row_sum"

    def test_unknown_model_and_version(self, client: triton.InferenceServerClient) -> None:
        with pytest.raises(InferenceServerException) as unknown:
            client.get_model_metadata("fraud")
        assert unknown.value.status() == "400"
        assert "unknown model 'fraud'; this server has row_sum" in unknown.value.message()
        with pytest.raises(InferenceServerException) as no_version:
            client.get_model_metadata("row_sum", model_version="9")
        assert no_version.value.status() == "404"
        assert "model 'row_sum' has no version '9'; its versions are: 1, 2" in no_version.value.message()


class TestInfer:
    def test_json_mode(self, client: triton.InferenceServerClient) -> None:
        result = client.infer(
            "row_sum",
            [rows_input(ROWS, binary=False)],
            outputs=[
                triton.InferRequestedOutput("total", binary_data=False),
                triton.InferRequestedOutput("label", binary_data=False),
            ],
            request_id="req-json",
        )
        response = result.get_response()
        assert response["id"] == "req-json"
        assert response["model_version"] == "2"
        assert "parameters" not in response["outputs"][0]  # data travelled as JSON
        np.testing.assert_array_equal(result.as_numpy("total"), [6.0, 15.5])
        assert result.as_numpy("label").tolist() == ["low", "high"]

    def test_binary_mode_is_the_client_default(self, client: triton.InferenceServerClient) -> None:
        rows = np.random.default_rng(3).random((1000, 3)) * 10
        result = client.infer("row_sum", [rows_input(rows, binary=True)], request_id="req-bin")
        response = result.get_response()
        assert response["id"] == "req-bin"
        assert response["outputs"][0]["parameters"] == {"binary_data_size": 8000}
        np.testing.assert_allclose(result.as_numpy("total"), rows.sum(axis=1))
        assert result.as_numpy("label").tolist() == [b"high" if t > 10 else b"low" for t in rows.sum(axis=1)]

    def test_a_version_in_the_path(self, client: triton.InferenceServerClient) -> None:
        result = client.infer("row_sum", [rows_input(ROWS, binary=True)], model_version="1")
        assert result.get_response()["model_version"] == "1"

    def test_a_gzip_request(self, client: triton.InferenceServerClient) -> None:
        result = client.infer(
            "row_sum", [rows_input(ROWS, binary=True)], request_compression_algorithm="gzip"
        )
        np.testing.assert_array_equal(result.as_numpy("total"), [6.0, 15.5])


class TestClientMistakes:
    @pytest.mark.parametrize("binary", [True, False])
    def test_a_bad_shape_is_named_and_the_connection_survives(
        self, client: triton.InferenceServerClient, server: tuple[str, list[int]], binary: bool
    ) -> None:
        _, client_ports = server
        with pytest.raises(InferenceServerException) as caught:
            client.infer("row_sum", [rows_input(np.ones((2, 4)), binary=binary)])
        assert caught.value.status() == "400"
        assert caught.value.message() == (
            "input 'input' has shape [2, 4]; the model expects [-1, 3] (-1 is any size)"
        )

        result = client.infer("row_sum", [rows_input(ROWS, binary=binary)])
        np.testing.assert_array_equal(result.as_numpy("total"), [6.0, 15.5])
        assert client_ports[-1] == client_ports[-2], "the good request reused the connection"

    def test_a_wrong_datatype(self, client: triton.InferenceServerClient) -> None:
        with pytest.raises(InferenceServerException) as caught:
            client.infer("row_sum", [rows_input(ROWS.astype(np.float32), binary=True, datatype="FP32")])
        assert caught.value.status() == "400"
        assert "input 'input' has datatype \"FP32\"; the model expects FP64" in caught.value.message()

    def test_unknown_model_and_version(self, client: triton.InferenceServerClient) -> None:
        with pytest.raises(InferenceServerException) as unknown:
            client.infer("fraud", [rows_input(ROWS, binary=True)])
        assert unknown.value.status() == "400"
        with pytest.raises(InferenceServerException) as no_version:
            client.infer("row_sum", [rows_input(ROWS, binary=True)], model_version="7")
        assert no_version.value.status() == "404"
        assert client.infer("row_sum", [rows_input(ROWS, binary=True)]).as_numpy("total") is not None


class TestRawHttp:
    """What a hand-written client (curl, requests) sends, on one keep-alive connection."""

    def test_malformed_body_then_a_good_one(self, server: tuple[str, list[int]]) -> None:
        url, client_ports = server
        good = {"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 3], "data": [1, 2, 3]}]}
        with httpx.Client(base_url=url) as http:
            bad = http.post("/v2/models/row_sum/infer", content=b'{"inputs": [')
            assert bad.status_code == 400
            assert bad.headers["content-type"] == "application/json"
            assert set(bad.json()) == {"error"}
            assert "not valid JSON" in bad.json()["error"]

            typed = http.post("/v2/models/row_sum/infer", json=good)  # with Content-Type: application/json
            untyped = http.post("/v2/models/row_sum/infer", content=json.dumps(good).encode())  # without
            packed = http.post(
                "/v2/models/row_sum/infer",
                content=gzip.compress(json.dumps(good).encode()),
                headers={"Content-Encoding": "gzip"},
            )
        for answer in (typed, untyped, packed):
            assert answer.status_code == 200
            assert answer.json()["outputs"][0]["data"] == [6.0]
        assert len(set(client_ports[-4:])) == 1, "every request rode the same connection"
