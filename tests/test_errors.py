"""Every refusal, whatever raised it, answers with {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from kiln.core.errors import KilnError, error_from_payload
from kiln.core.settings import Settings
from tests.tracking.api import API, create_experiment, create_run, error_of, finish_run

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
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    return client.put(f"{API}/runs/{run['id']}/artifacts/big", content=b"x" * (settings.max_upload_bytes + 1))


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
