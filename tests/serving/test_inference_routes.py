"""The Open Inference Protocol on real deployments: register → deploy → ``tritonclient`` over real HTTP.

One live server for the module (uvicorn on a loopback port, the app's lifespan entered through the
admin's client): two models registered through the upload API, deployed (one of them also privately),
then the real ``tritonclient[http]`` in JSON and binary mode. Answers are compared with what the
scikit-learn models themselves predict.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import tritonclient.http as triton
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder
from tritonclient.utils import InferenceServerException

from kiln.app import create_app, kiln_state
from kiln.auth.permissions import Role
from kiln.core.db import Database
from kiln.serving.inference_router import UNKNOWN_MODEL_HINT
from tests.api import API
from tests.builders.auth import (
    admin_client,
    default_project_id,
    make_account,
    make_project,
    open_session,
)
from tests.builders.core import database
from tests.builders.deployments import deploy, refresh
from tests.builders.registry import save_folder
from tests.live_server import serve
from tests.registry.api import upload, zip_folder
from tests.settings import empty_all_tables, settings_for_tests

CHANNELS = ["phone", "shop", "web"]


def orders_model() -> tuple[Pipeline, pd.DataFrame]:
    """A DataFrame model (a number and a category of text): one OIP input per field."""
    rng = np.random.default_rng(11)
    X = pd.DataFrame({"amount": rng.uniform(0, 100, 120), "channel": rng.choice(CHANNELS, 120)})
    y = ((X["amount"] > 50) | (X["channel"] == "web")).astype(int)
    encode = make_column_transformer((OneHotEncoder(), ["channel"]), remainder="passthrough")
    return make_pipeline(encode, LogisticRegression()).fit(X, y), X


def sizes_model() -> tuple[LogisticRegression, np.ndarray]:
    """A matrix model with text classes: one 2-D OIP input, a BYTES prediction."""
    rng = np.random.default_rng(12)
    X = rng.uniform(0, 10, (120, 3))
    return LogisticRegression().fit(X, np.where(X.sum(axis=1) > 15, "high", "low")), X


@dataclass(frozen=True)
class Live:
    app: FastAPI
    url: str
    admin: TestClient
    orders: Pipeline
    sizes: LogisticRegression
    key: str  # an API key with predictions:create in the deployments' project
    outsider: str  # an access token of a member of another project only

    def client(self) -> triton.InferenceServerClient:
        # One connection: a request after an error must reuse it.
        return triton.InferenceServerClient(url=self.url.removeprefix("http://"), concurrency=1)


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, migrated_database: Database
) -> Iterator[Live]:
    empty_all_tables(migrated_database)
    app = create_app(settings_for_tests(tmp_path_factory.mktemp("oip"), database_url), migrate=False)
    orders, orders_X = orders_model()
    sizes, sizes_X = sizes_model()
    try:
        with admin_client(app) as admin:
            upload(admin, "orders", zip_folder(save_folder(orders, orders_X)), "model.zip", draft=False)
            upload(admin, "sizes", zip_folder(save_folder(sizes, sizes_X)), "model.zip", draft=False)
            deploy(admin, "orders", "orders", version=1, public=True)
            deploy(admin, "orders-private", "orders", version=1)
            deploy(admin, "sizes", "sizes", version=1, public=True)
            refresh(app)
            created = admin.post(
                f"{API}/me/api-keys",
                json={"name": "oip", "role": "data_scientist", "project_id": default_project_id(app)},
            )
            assert created.status_code == 201, created.text
            stranger = make_account(app, role=Role.data_scientist)
            with database(app).unit_of_work() as session:
                make_project(session, "team-b", members={stranger.id: Role.data_scientist.value})
            outsider = open_session(app, stranger).access_token
            with serve(app) as url:
                yield Live(app, url, admin, orders, sizes, created.json()["key"], outsider)
    finally:
        kiln_state(app).db.dispose()


@pytest.fixture
def client(live: Live) -> Iterator[triton.InferenceServerClient]:
    connection = live.client()
    yield connection
    connection.close()


ORDERS = pd.DataFrame({"amount": [80.0, 10.0, 30.0, 55.5], "channel": ["shop", "phone", "web", "phone"]})


def orders_inputs(frame: pd.DataFrame, *, binary: bool) -> list[triton.InferInput]:
    amount = triton.InferInput("amount", [len(frame)], "FP64")
    amount.set_data_from_numpy(frame["amount"].to_numpy(), binary_data=binary)
    channel = triton.InferInput("channel", [len(frame)], "BYTES")
    channel.set_data_from_numpy(frame["channel"].to_numpy(dtype=object), binary_data=binary)
    return [amount, channel]


def tensor(
    name: str, values: np.ndarray, datatype: str = "FP64", *, binary: bool = True
) -> triton.InferInput:
    tensor = triton.InferInput(name, list(values.shape), datatype)
    tensor.set_data_from_numpy(values, binary_data=binary)
    return tensor


def refused(call: Any) -> InferenceServerException:
    with pytest.raises(InferenceServerException) as caught:
        call()
    return caught.value


class TestServer:
    def test_live_ready_and_advertising_binary_tensors(self, client: triton.InferenceServerClient) -> None:
        assert client.is_server_live()
        assert client.is_server_ready()
        metadata = client.get_server_metadata()
        assert metadata["name"] == "kiln"
        assert metadata["extensions"] == ["binary_tensor_data"]


class TestModelMetadata:
    def test_a_deployment_is_a_model_with_its_signature_as_tensors(
        self, client: triton.InferenceServerClient
    ) -> None:
        orders = client.get_model_metadata("orders")
        assert orders == {
            "name": "orders",
            "versions": ["1"],
            "platform": "kiln_sklearn",
            "inputs": [
                {"name": "amount", "datatype": "FP64", "shape": [-1]},
                {"name": "channel", "datatype": "BYTES", "shape": [-1]},
            ],
            "outputs": [
                {"name": "prediction", "datatype": "INT64", "shape": [-1]},
                {"name": "probabilities", "datatype": "FP64", "shape": [-1, 2]},
            ],
        }
        assert client.get_model_metadata("orders", model_version="1") == orders
        sizes = client.get_model_metadata("sizes")
        assert sizes["inputs"] == [{"name": "input", "datatype": "FP64", "shape": [-1, 3]}]
        assert sizes["outputs"][0] == {"name": "prediction", "datatype": "BYTES", "shape": [-1]}

    def test_readiness_of_the_served_version_only(self, client: triton.InferenceServerClient) -> None:
        assert client.is_model_ready("orders")
        assert client.is_model_ready("orders", model_version="1")
        assert not client.is_model_ready("orders", model_version="2")
        assert not client.is_model_ready("fraud")

    def test_unknown_model_is_400_and_unknown_version_404(self, client: triton.InferenceServerClient) -> None:
        unknown = refused(lambda: client.get_model_metadata("fraud"))
        assert unknown.status() == "400"
        assert unknown.message() == f"unknown model 'fraud'; {UNKNOWN_MODEL_HINT}"
        no_version = refused(lambda: client.get_model_metadata("orders", model_version="7"))
        assert no_version.status() == "404"
        assert no_version.message() == "model 'orders' has no version '7'; its versions are: 1"


class TestInfer:
    @pytest.mark.parametrize("binary", [True, False])
    def test_a_dataframe_model_answers_what_scikit_learn_predicts(
        self, live: Live, client: triton.InferenceServerClient, binary: bool
    ) -> None:
        outputs = [
            triton.InferRequestedOutput(name, binary_data=binary) for name in ("prediction", "probabilities")
        ]
        result = client.infer(
            "orders", orders_inputs(ORDERS, binary=binary), outputs=outputs, request_id="o-1"
        )

        response = result.get_response()
        assert (response["model_name"], response["model_version"], response["id"]) == ("orders", "1", "o-1")
        np.testing.assert_array_equal(result.as_numpy("prediction"), live.orders.predict(ORDERS))
        np.testing.assert_allclose(result.as_numpy("probabilities"), live.orders.predict_proba(ORDERS))

    def test_a_matrix_model_in_binary_with_a_large_batch(
        self, live: Live, client: triton.InferenceServerClient
    ) -> None:
        rows = np.random.default_rng(5).uniform(0, 10, (1000, 3))
        # tritonclient's default: binary inputs, every output in binary.
        result = client.infer("sizes", [tensor("input", rows)], model_version="1")

        assert result.get_response()["outputs"][0]["parameters"]["binary_data_size"] > 0
        assert result.as_numpy("prediction").tolist() == [
            label.encode() for label in live.sizes.predict(rows)
        ]
        np.testing.assert_allclose(result.as_numpy("probabilities"), live.sizes.predict_proba(rows))

    def test_only_the_outputs_asked_for(self, live: Live, client: triton.InferenceServerClient) -> None:
        rows = np.array([[9.0, 9.0, 9.0], [1.0, 2.0, 3.0]])
        result = client.infer(
            "sizes",
            [tensor("input", rows, binary=False)],
            outputs=[triton.InferRequestedOutput("prediction", binary_data=False)],
        )
        assert [output["name"] for output in result.get_response()["outputs"]] == ["prediction"]
        assert result.as_numpy("prediction").tolist() == live.sizes.predict(rows).tolist()

    def test_plain_json_with_or_without_content_type_and_the_prediction_log(self, live: Live) -> None:
        request = {
            "id": "from-curl",
            "inputs": [
                {"name": "amount", "datatype": "FP64", "shape": [2], "data": [80.0, 10.0]},
                {"name": "channel", "datatype": "BYTES", "shape": [2], "data": ["shop", "phone"]},
            ],
        }
        with httpx.Client(base_url=live.url) as http:
            typed = http.post("/v2/models/orders/infer", json=request)
            untyped = http.post(
                "/v2/models/orders/infer", content=httpx.Request("POST", "/", json=request).content
            )
        expected = live.orders.predict(ORDERS.iloc[:2]).tolist()
        for answer in (typed, untyped):
            assert answer.status_code == 200, answer.text
            assert answer.json()["id"] == "from-curl"
            assert answer.json()["outputs"][0] == {
                "name": "prediction",
                "datatype": "INT64",
                "shape": [2],
                "data": expected,
            }

        kiln_state(live.app).prediction_logger.flush()
        logged = live.admin.get(f"{API}/predictions/{typed.headers['x-request-id']}").json()
        assert (logged["deployment"], logged["status"], logged["caller"]) == ("orders", "ok", "public")
        assert logged["model_version_number"] == 1
        assert logged["inputs"] == {"amount": [80.0, 10.0], "channel": ["shop", "phone"]}
        assert logged["outputs"]["predictions"] == expected


class TestClientMistakes:
    """Each is a 400 that names what to fix, and the connection is used again for the next request."""

    @pytest.mark.parametrize(
        ("inputs", "message"),
        [
            (
                lambda: [*orders_inputs(ORDERS, binary=True), tensor("volume", np.ones(4))],
                "unknown input 'volume'; model 'orders' takes 'amount' (FP64 [-1]), 'channel' (BYTES [-1])",
            ),
            (
                lambda: [
                    tensor("amount", np.ones(4, np.float32), "FP32"),
                    orders_inputs(ORDERS, binary=True)[1],
                ],
                "input 'amount' has datatype \"FP32\"; the model expects FP64",
            ),
            (
                lambda: [tensor("amount", np.ones((4, 1))), orders_inputs(ORDERS, binary=True)[1]],
                "input 'amount' has shape [4, 1]; the model expects [-1] (-1 is any size)",
            ),
            (
                lambda: [tensor("amount", np.ones(3)), orders_inputs(ORDERS, binary=True)[1]],
                "the inputs hold different numbers of rows ('amount' has 3, 'channel' has 4); "
                "send one element per row in each",
            ),
            (
                lambda: [orders_inputs(ORDERS, binary=True)[0]],
                "missing input 'channel'; model 'orders' takes 'amount' (FP64 [-1]), 'channel' (BYTES [-1])",
            ),
            (
                lambda: orders_inputs(ORDERS.assign(channel=["shop", "fax", "web", "web"]), binary=False),
                "channel: expected one of 'phone', 'shop', 'web', got 'fax' (row 1)",
            ),
        ],
        ids=["unknown-input", "datatype", "shape", "rows", "missing-input", "category"],
    )
    def test_a_bad_input(
        self, live: Live, client: triton.InferenceServerClient, inputs: Any, message: str
    ) -> None:
        error = refused(lambda: client.infer("orders", inputs()))
        assert (error.status(), error.message()) == ("400", message)
        assert client.infer("orders", orders_inputs(ORDERS, binary=True)).as_numpy("prediction") is not None

    def test_unknown_model_and_version(self, client: triton.InferenceServerClient) -> None:
        unknown = refused(lambda: client.infer("fraud", orders_inputs(ORDERS, binary=True)))
        assert (unknown.status(), unknown.message()) == (
            "400",
            f"unknown model 'fraud'; {UNKNOWN_MODEL_HINT}",
        )
        no_version = refused(
            lambda: client.infer("orders", orders_inputs(ORDERS, binary=True), model_version="2")
        )
        assert no_version.status() == "404"

    def test_malformed_json_then_a_good_request_on_the_same_connection(self, live: Live) -> None:
        good = {"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 3], "data": [9, 9, 9]}]}
        with httpx.Client(base_url=live.url) as http:
            bad = http.post("/v2/models/sizes/infer", content=b'{"inputs": [')
            bad_port = local_port(bad)
            answer = http.post("/v2/models/sizes/infer", json=good)
            assert local_port(answer) == bad_port, "the good request reused the connection"
        assert bad.status_code == 400
        assert bad.json() == {
            "error": "the request is not valid JSON: Expecting value: line 1 column 13 (char 12)"
        }
        assert answer.status_code == 200


def local_port(response: httpx.Response) -> int:
    port: int = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


class TestAccess:
    def test_a_private_deployment_takes_a_key(self, live: Live, client: triton.InferenceServerClient) -> None:
        inputs = orders_inputs(ORDERS, binary=True)
        without = refused(lambda: client.infer("orders-private", inputs))
        assert without.status() == "401"
        assert "Authorization: Bearer" in without.message()
        assert not client.is_model_ready("orders-private")

        headers = {"Authorization": f"Bearer {live.key}"}
        assert client.is_model_ready("orders-private", headers=headers)
        result = client.infer("orders-private", inputs, headers=headers)
        np.testing.assert_array_equal(result.as_numpy("prediction"), live.orders.predict(ORDERS))

    def test_a_non_member_is_told_what_a_missing_model_is_told(
        self, live: Live, client: triton.InferenceServerClient
    ) -> None:
        headers = {"Authorization": f"Bearer {live.outsider}"}
        hidden = refused(
            lambda: client.infer("orders-private", orders_inputs(ORDERS, binary=True), headers=headers)
        )
        assert (hidden.status(), hidden.message()) == (
            "400",
            f"unknown model 'orders-private'; {UNKNOWN_MODEL_HINT}",
        )
        assert not client.is_model_ready("orders-private", headers=headers)


class TestModelFailure:
    def test_a_model_that_raises_is_a_500_with_the_request_id_and_the_next_request_works(
        self, live: Live, client: triton.InferenceServerClient
    ) -> None:
        route = kiln_state(live.app).model_cache.route("sizes")
        assert route is not None
        assert route.model is not None
        estimator = route.model.model
        rows = np.ones((2, 3))

        def broken(X: object) -> object:  # the model's own code fails, as a user's model can
            raise RuntimeError("feature store unreachable")

        estimator.predict = estimator.predict_proba = broken  # classes come from predict_proba alone
        try:
            with httpx.Client(base_url=live.url) as http:
                failed = http.post(
                    "/v2/models/sizes/infer",
                    json={
                        "inputs": [
                            {"name": "input", "datatype": "FP64", "shape": [2, 3], "data": rows.tolist()}
                        ]
                    },
                )
        finally:
            del estimator.predict, estimator.predict_proba
        request_id = failed.headers["x-request-id"]
        assert failed.status_code == 500
        assert failed.json() == {
            "error": f"the model failed on this request; quote request id {request_id} when reporting it"
        }
        assert client.infer("sizes", [tensor("input", rows)]).as_numpy("prediction") is not None
        kiln_state(live.app).prediction_logger.flush()
        logged = live.admin.get(f"{API}/predictions/{request_id}").json()
        assert (logged["status"], logged["error"]) == ("error", "RuntimeError: feature store unreachable")
