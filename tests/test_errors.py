"""Every refusal, whatever raised it, answers with {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

import kiln
from kiln.app import kiln_state
from kiln.core.errors import Conflict, KilnError, error_from_payload, registered_errors
from kiln.core.http import error_response
from kiln.core.settings import Settings
from kiln.registry.lifecycle_errors import StageTransitionDenied  # a domain error defined outside core
from tests.api import error_of
from tests.live_server import serve
from tests.tracking.api import API, create_experiment, create_run, finish_run

Call = Callable[[TestClient], httpx.Response]


def _duplicate_experiment(client: TestClient) -> httpx.Response:
    create_experiment(client, "taken")
    return client.post(f"{API}/experiments", json={"name": "taken"})


def _log_to_finished_run(client: TestClient) -> httpx.Response:
    run = create_run(client)
    finish_run(client, run["id"])
    return client.post(f"{API}/runs/{run['id']}/metrics", json={"key": "m", "value": 1})


def _upload_too_large(client: TestClient) -> httpx.Response:
    run = create_run(client)
    settings: Settings = kiln_state(client.app).settings
    return client.put(
        f"{API}/runs/{run['id']}/artifacts/big", content=b"x" * (settings.http.max_upload_bytes + 1)
    )


CASES: list[tuple[str, Call, int, str]] = [
    ("unknown route", lambda c: c.get(f"{API}/nothing-here"), 404, "not_found"),
    ("unknown run", lambda c: c.get(f"{API}/runs/ghost"), 404, "not_found"),
    ("unknown experiment", lambda c: c.get(f"{API}/experiments/ghost"), 404, "not_found"),
    ("method not allowed", lambda c: c.delete(f"{API}/experiments"), 405, "method_not_allowed"),
    ("method not allowed on ops", lambda c: c.post("/healthz"), 405, "method_not_allowed"),
    ("bad filter", lambda c: c.get(f"{API}/runs", params={"filter": "colour = 'red'"}), 400, "invalid"),
    ("bad cursor", lambda c: c.get(f"{API}/runs", params={"cursor": "!!"}), 400, "invalid"),
    ("bad query type", lambda c: c.get(f"{API}/runs", params={"limit": "many"}), 422, "validation_failed"),
    ("missing body", lambda c: c.post(f"{API}/experiments"), 422, "validation_failed"),
    (
        "malformed json",
        lambda c: c.post(
            f"{API}/experiments", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
        "validation_failed",
    ),
    ("wrong field type", lambda c: c.post(f"{API}/experiments", json={"name": 5}), 422, "validation_failed"),
    ("duplicate", _duplicate_experiment, 409, "conflict"),
    ("finished run", _log_to_finished_run, 409, "invalid_state"),
    ("upload too large", _upload_too_large, 413, "payload_too_large"),
]


class TestErrorShape:
    def test_one_shape_for_every_error(self, client: TestClient) -> None:
        responses = {name: (call(client), status, code) for name, call, status, code in CASES}

        wrong = {
            name: (response.status_code, response.text[:200])
            for name, (response, status, _code) in responses.items()
            if response.status_code != status
        }
        assert wrong == {}
        for name, (response, status, code) in responses.items():
            assert response.headers["content-type"].startswith("application/json"), name
            error = error_of(response)
            assert error["code"] == code, name
            assert response.headers.get("x-request-id"), name
            # The SDK turns the body back into the matching exception class.
            rebuilt = error_from_payload(response.json(), response.status_code)
            assert rebuilt.message == error["message"]
            if type(rebuilt) is not KilnError:
                assert (rebuilt.code, rebuilt.status_code) == (code, status), name

    def test_405_says_which_method_to_use(self, client: TestClient) -> None:
        response = client.delete(f"{API}/experiments")

        # Starlette names the methods of the first route matching the path (here POST, not GET too).
        allowed = [method.strip() for method in response.headers["allow"].split(",")]
        assert allowed
        assert set(allowed) <= {"GET", "POST"}

    def test_validation_details_list_each_field(self, client: TestClient) -> None:
        response = client.post(f"{API}/runs", json={"experiment_id": 1, "tags": "x"})

        fields = {item["field"] for item in error_of(response)["details"]["errors"]}
        assert fields == {"body.experiment_id", "body.tags"}

    def test_request_id_is_echoed(self, client: TestClient) -> None:
        response = client.get(f"{API}/runs/ghost", headers={"x-request-id": "trace-123"})

        assert response.headers["x-request-id"] == "trace-123"


class TestValuesTheDatabaseCannotStore:
    """PostgreSQL refuses NUL characters in text; SQLite keeps them. Either way: never a 500."""

    @pytest.mark.parametrize(
        ("what", "send"),
        [
            (
                "param",
                lambda c, run: c.post(f"{API}/runs/{run}/params", json={"key": "k", "value": "a\x00b"}),
            ),
            ("tag", lambda c, run: c.post(f"{API}/runs/{run}/tags", json={"key": "k", "value": "a\x00b"})),
            ("run name", lambda c, run: c.patch(f"{API}/runs/{run}", json={"name": "a\x00b"})),
            ("experiment", lambda c, run: c.post(f"{API}/experiments", json={"name": "a\x00b"})),
            ("filter", lambda c, run: c.get(f"{API}/runs", params={"filter": "params.k = 'a\x00b'"})),
            ("history", lambda c, run: c.get(f"{API}/runs/{run}/metrics/history", params={"key": "a\x00"})),
        ],
    )
    def test_nul_characters_are_stored_or_refused(
        self, client: TestClient, what: str, send: Callable[[TestClient, str], httpx.Response]
    ) -> None:
        run = create_run(client)["id"]

        response = send(client, run)

        assert response.status_code < 500, response.text
        if response.status_code == 400:
            assert error_of(response)["code"] == "invalid"
        stored = client.get(f"{API}/runs/{run}").json()
        assert stored["params"].get("k", "a\x00b") == "a\x00b"
        assert stored["tags"].get("k", "a\x00b") == "a\x00b"

    def test_nan_in_the_environment_is_kept_as_the_api_spells_it(self, client: TestClient) -> None:
        experiment = create_experiment(client)
        environment = '{"gpu": NaN, "hw": {"tflops": [Infinity, -Infinity, 1.5]}}'
        body = f'{{"experiment_id": "{experiment["id"]}", "environment": {environment}}}'

        response = client.post(f"{API}/runs", content=body, headers={"content-type": "application/json"})

        assert response.status_code == 201, response.text
        environment = client.get(f"{API}/runs/{response.json()['id']}").json()["environment"]
        assert environment == {"gpu": "NaN", "hw": {"tflops": ["Infinity", "-Infinity", 1.5]}}


def _every_subclass(cls: type[KilnError]) -> list[type[KilnError]]:
    # Classes refused at definition linger in __subclasses__ until the collector frees them.
    gc.collect()
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_every_subclass(sub)]
    return found


class TestErrorRegistry:
    def test_every_error_class_is_registered_under_a_code_of_its_own(self) -> None:
        classes = [KilnError, *_every_subclass(KilnError)]

        codes = [cls.code for cls in classes]

        assert len(codes) == len(set(codes))
        assert registered_errors() == {cls.code: cls for cls in classes}

    def test_a_code_already_taken_is_refused_when_the_class_is_defined(self) -> None:
        with pytest.raises(TypeError, match=r"already used by kiln\.core\.errors\.NotFound"):

            class ModelMissing(Conflict):
                code = "not_found"

        assert registered_errors()["not_found"].__name__ == "NotFound"

    def test_a_subclass_without_its_own_code_is_refused(self) -> None:
        with pytest.raises(TypeError, match="must declare its own `code`"):

            class VersionTaken(Conflict):
                pass


@pytest.fixture
def domain_app(app: FastAPI) -> FastAPI:
    """The real app plus test-only routes that answer with errors no core module defines."""
    router = APIRouter(prefix=f"{API}/test-only")

    @router.post("/promote")
    def promote() -> None:
        raise StageTransitionDenied(
            "model 'fraud' version 3 is archived; restore it before promoting", details={"stage": "archived"}
        )

    @router.post("/newer-server")
    def newer_server() -> JSONResponse:
        return error_response(409, "quota_exhausted", "a code this SDK has never heard of")

    app.include_router(router)
    return app


@pytest.fixture
def sdk(domain_app: FastAPI, admin_token: str) -> Iterator[kiln.Client]:
    with serve(domain_app) as url, kiln.Client(url, token=admin_token) as sdk_client:
        yield sdk_client


class TestDomainErrorsReachTheSdk:
    def test_a_domain_error_comes_back_as_its_own_class(self, sdk: kiln.Client) -> None:
        with pytest.raises(StageTransitionDenied) as caught:
            sdk.transport.request("POST", "/test-only/promote")

        assert isinstance(caught.value, kiln.Conflict)
        assert caught.value.message == "model 'fraud' version 3 is archived; restore it before promoting"
        assert caught.value.details == {"stage": "archived"}

    def test_an_unknown_code_comes_back_as_the_base_class_of_its_status(self, sdk: kiln.Client) -> None:
        with pytest.raises(kiln.Conflict) as caught:
            sdk.transport.request("POST", "/test-only/newer-server")

        assert type(caught.value) is Conflict
        assert caught.value.message == "a code this SDK has never heard of"
        assert any("'quota_exhausted'" in note for note in caught.value.__notes__)

    def test_an_unknown_status_stays_a_plain_kiln_error(self) -> None:
        error = error_from_payload({"error": {"code": "teapot", "message": "short and stout"}}, 418)

        assert type(error) is KilnError
        assert error.message == "short and stout"


class TestOpenApiErrorShape:
    def test_run_routes_document_the_error_body(self, client: TestClient) -> None:
        document = client.get("/openapi.json").json()

        schema = document["components"]["schemas"]["ErrorBody"]
        assert schema["required"] == ["error"]
        get_run = document["paths"]["/api/v1/runs/{run_id}"]["get"]["responses"]
        create_run = document["paths"]["/api/v1/runs"]["post"]["responses"]
        cases = ((get_run, "404"), (get_run, "401"), (create_run, "409"), (create_run, "422"))
        for responses, status in cases:
            content = responses[status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, status
        assert "invalid_state" in create_run["409"]["description"]
        # FastAPI's own validation shape is not what Kiln answers, so it must not be documented.
        assert "HTTPValidationError" not in document["components"]["schemas"]

    def test_every_api_route_documents_the_shape_of_its_401(self, client: TestClient) -> None:
        document = client.get("/openapi.json").json()

        undocumented = [
            f"{method.upper()} {path}"
            for path, operations in document["paths"].items()
            if path.startswith("/api/v1/")
            for method, operation in operations.items()
            if "ErrorBody" not in str(operation["responses"].get("401", {}).get("content"))
        ]
        assert undocumented == []
