"""Logging metrics, params and tags: batches, params-once, atomic refusals, NaN/inf and latest values."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kiln.app import create_app, kiln_state
from kiln.core.errors import Conflict
from kiln.core.settings import Settings
from kiln.tracking import batches
from kiln.tracking.schemas import LogBatch, ParamIn
from tests.api import error_of
from tests.builders import TEST_ACTOR, make_run
from tests.builders.auth import admin_client
from tests.tracking.api import API, create_run, finish_run, get_run, history, log_batch, wire_float


class TestLogBatch:
    def test_records_metrics_params_and_tags(self, client: TestClient) -> None:
        run = create_run(client)

        response = log_batch(
            client,
            run["id"],
            metrics=[{"key": "loss", "value": 0.5, "step": 1}, {"key": "loss", "value": 0.25, "step": 2}],
            params={"lr": 0.01, "depth": 6, "optimizer": "adam"},
            tags={"team": "risk"},
        )

        assert response.status_code == 200
        assert response.json() == {"metrics": 2, "params": 3, "tags": 1}
        stored = get_run(client, run["id"])
        assert stored["metrics"] == {"loss": 0.25}
        assert stored["params"] == {"lr": "0.01", "depth": "6", "optimizer": "adam"}
        assert stored["tags"] == {"team": "risk"}
        points = history(client, run["id"], "loss").json()["points"]
        assert [(p["step"], p["value"]) for p in points] == [(1, 0.5), (2, 0.25)]

    def test_single_endpoints(self, client: TestClient) -> None:
        run = create_run(client)

        assert client.post(f"{API}/runs/{run['id']}/metrics", json={"key": "acc", "value": 0.9}).json() == {
            "metrics": 1,
            "params": 0,
            "tags": 0,
        }
        assert (
            client.post(f"{API}/runs/{run['id']}/params", json={"key": "C", "value": "1.0"}).status_code
            == 200
        )
        assert client.post(f"{API}/runs/{run['id']}/tags", json={"key": "t", "value": "x"}).status_code == 200

        stored = get_run(client, run["id"])
        assert (stored["metrics"], stored["params"], stored["tags"]) == (
            {"acc": 0.9},
            {"C": "1.0"},
            {"t": "x"},
        )

    def test_tags_can_change(self, client: TestClient) -> None:
        run = create_run(client, tags={"stage": "dev"})

        log_batch(client, run["id"], tags={"stage": "prod"})

        assert get_run(client, run["id"])["tags"] == {"stage": "prod"}

    def test_explicit_timestamp_is_kept(self, client: TestClient) -> None:
        run = create_run(client)

        log_batch(client, run["id"], metrics=[{"key": "m", "value": 1, "timestamp": 1_700_000_000_123}])

        assert history(client, run["id"], "m").json()["points"][0]["timestamp"] == 1_700_000_000_123

    def test_logging_to_a_finished_run_is_refused(self, client: TestClient) -> None:
        run = create_run(client)
        finish_run(client, run["id"])

        response = log_batch(client, run["id"], metrics=[{"key": "late", "value": 1}], tags={"a": "b"})

        assert response.status_code == 409
        error = error_of(response)
        assert error["code"] == "invalid_state"
        assert "finished" in error["message"]
        assert history(client, run["id"], "late").status_code == 404
        assert get_run(client, run["id"])["tags"] == {}


class TestParamsAreLoggedOnce:
    def test_same_value_again_is_accepted(self, client: TestClient) -> None:
        run = create_run(client)
        log_batch(client, run["id"], params={"lr": "0.1"})

        response = log_batch(client, run["id"], params={"lr": "0.1"})

        assert response.status_code == 200
        assert get_run(client, run["id"])["params"] == {"lr": "0.1"}

    def test_another_value_is_a_conflict_naming_key_and_both_values(self, client: TestClient) -> None:
        run = create_run(client)
        log_batch(client, run["id"], params={"lr": "0.1"})

        response = log_batch(client, run["id"], params={"lr": "0.2"})

        assert response.status_code == 409
        error = error_of(response)
        assert error["code"] == "conflict"
        assert "'lr'" in error["message"]
        assert "'0.1'" in error["message"]
        assert "'0.2'" in error["message"]
        assert error["details"] == {"key": "lr", "logged": "0.1", "attempted": "0.2"}
        assert get_run(client, run["id"])["params"] == {"lr": "0.1"}

    def test_two_values_for_one_key_in_one_batch_is_a_conflict(self, client: TestClient) -> None:
        run = create_run(client)

        response = client.post(
            f"{API}/runs/{run['id']}/batch",
            json={"params": [{"key": "lr", "value": "0.1"}, {"key": "lr", "value": "0.2"}]},
        )

        assert response.status_code == 409
        error = error_of(response)
        assert "'lr'" in error["message"]
        assert "'0.1'" in error["message"]
        assert "'0.2'" in error["message"]
        assert error["details"] == {"key": "lr", "values": ["0.1", "0.2"]}
        assert get_run(client, run["id"])["params"] == {}

    def test_same_key_twice_with_one_value_in_a_batch_is_fine(self, client: TestClient) -> None:
        run = create_run(client)

        response = client.post(
            f"{API}/runs/{run['id']}/batch",
            json={"params": [{"key": "lr", "value": "0.1"}, {"key": "lr", "value": "0.1"}]},
        )

        assert response.status_code == 200
        assert get_run(client, run["id"])["params"] == {"lr": "0.1"}

    def test_service_raises_conflict(self, session: Session) -> None:
        run = make_run(session, params={"C": "1"})

        with pytest.raises(Conflict, match="'C'"):
            batches.log_batch(session, TEST_ACTOR, run.id, LogBatch(params=[ParamIn(key="C", value="2")]))


class TestRefusedBatchKeepsNothing:
    def test_conflicting_param_drops_the_metrics_tags_and_other_params(self, client: TestClient) -> None:
        run = create_run(client)
        log_batch(client, run["id"], params={"lr": "0.1"}, metrics=[{"key": "loss", "value": 1.0, "step": 0}])

        response = log_batch(
            client,
            run["id"],
            metrics=[{"key": "loss", "value": 0.5, "step": 1}, {"key": "acc", "value": 0.7, "step": 1}],
            params={"depth": "3", "lr": "0.2"},
            tags={"note": "should vanish"},
        )

        assert response.status_code == 409
        loss = history(client, run["id"], "loss").json()
        assert loss["total_points"] == 1
        assert [p["value"] for p in loss["points"]] == [1.0]
        assert history(client, run["id"], "acc").status_code == 404
        stored = get_run(client, run["id"])
        assert stored["metrics"] == {"loss": 1.0}
        assert stored["params"] == {"lr": "0.1"}
        assert stored["tags"] == {}

    def test_invalid_item_drops_the_whole_batch(self, client: TestClient) -> None:
        run = create_run(client)

        response = client.post(
            f"{API}/runs/{run['id']}/batch",
            json={"metrics": [{"key": "ok", "value": 1.0}, {"key": "bad", "value": "high"}]},
        )

        assert response.status_code == 422
        assert history(client, run["id"], "ok").status_code == 404


class TestNonFiniteMetrics:
    def test_json_literals_are_accepted_and_read_back_as_strings(self, client: TestClient) -> None:
        run = create_run(client)
        body = (
            '{"metrics": [{"key": "nan", "value": NaN}, {"key": "pos", "value": Infinity},'
            ' {"key": "neg", "value": -Infinity}]}'
        )

        response = client.post(
            f"{API}/runs/{run['id']}/batch", content=body, headers={"content-type": "application/json"}
        )

        assert response.status_code == 200, response.text
        assert get_run(client, run["id"])["metrics"] == {"nan": "NaN", "pos": "Infinity", "neg": "-Infinity"}

    def test_strings_are_accepted(self, client: TestClient) -> None:
        run = create_run(client)

        response = log_batch(
            client,
            run["id"],
            metrics=[
                {"key": "nan", "value": "NaN"},
                {"key": "pos", "value": "Infinity"},
                {"key": "neg", "value": "-Infinity"},
            ],
        )

        assert response.status_code == 200, response.text
        assert get_run(client, run["id"])["metrics"] == {"nan": "NaN", "pos": "Infinity", "neg": "-Infinity"}

    def test_history_keeps_each_value_faithfully(self, client: TestClient) -> None:
        run = create_run(client)
        values = [1.5, math.nan, math.inf, -math.inf, -2.0]
        body = json.dumps(
            {"metrics": [{"key": "m", "value": v, "step": i} for i, v in enumerate(values)]}, allow_nan=True
        )

        client.post(
            f"{API}/runs/{run['id']}/batch", content=body, headers={"content-type": "application/json"}
        )
        response = history(client, run["id"], "m")

        assert response.status_code == 200
        raw = [p["value"] for p in response.json()["points"]]
        assert raw == [1.5, "NaN", "Infinity", "-Infinity", -2.0]

    def test_a_nan_latest_value_replaces_a_number(self, client: TestClient) -> None:
        run = create_run(client)
        log_batch(client, run["id"], metrics=[{"key": "m", "value": 1.0, "step": 0}])

        log_batch(client, run["id"], metrics=[{"key": "m", "value": "NaN", "step": 1}])

        assert get_run(client, run["id"])["metrics"] == {"m": "NaN"}

    def test_responses_are_strict_json(self, client: TestClient) -> None:
        run = create_run(client)
        log_batch(client, run["id"], metrics=[{"key": "m", "value": "Infinity"}])

        text = client.get(f"{API}/runs", params={"experiment_id": run["experiment_id"]}).text

        # A browser's JSON.parse refuses bare NaN/Infinity; the wire form must be strings.
        json.loads(text, parse_constant=lambda token: pytest.fail(f"bare {token} in response"))
        assert wire_float(json.loads(text)["items"][0]["metrics"]["m"]) == math.inf


class TestLatestMetric:
    def test_highest_step_wins_across_out_of_order_batches(self, client: TestClient) -> None:
        run = create_run(client)
        log_batch(client, run["id"], metrics=[{"key": "loss", "value": 0.1, "step": 10}])
        log_batch(client, run["id"], metrics=[{"key": "loss", "value": 0.9, "step": 2}])
        log_batch(client, run["id"], metrics=[{"key": "loss", "value": 0.5, "step": 5}])

        assert get_run(client, run["id"])["metrics"] == {"loss": 0.1}

    def test_within_one_batch_the_highest_step_wins(self, client: TestClient) -> None:
        run = create_run(client)

        log_batch(
            client,
            run["id"],
            metrics=[
                {"key": "loss", "value": 0.3, "step": 7},
                {"key": "loss", "value": 0.8, "step": 1},
            ],
        )

        assert get_run(client, run["id"])["metrics"] == {"loss": 0.3}

    def test_on_equal_steps_the_latest_timestamp_wins(self, client: TestClient) -> None:
        run = create_run(client)
        log_batch(client, run["id"], metrics=[{"key": "acc", "value": 0.7, "step": 3, "timestamp": 2000}])
        log_batch(client, run["id"], metrics=[{"key": "acc", "value": 0.6, "step": 3, "timestamp": 1000}])

        assert get_run(client, run["id"])["metrics"] == {"acc": 0.7}

        log_batch(client, run["id"], metrics=[{"key": "acc", "value": 0.8, "step": 3, "timestamp": 3000}])

        assert get_run(client, run["id"])["metrics"] == {"acc": 0.8}


WRONG_TYPES: list[tuple[dict[str, object], str]] = [
    ({"metrics": [{"key": "m", "value": "high"}]}, "metrics.0.value"),
    ({"metrics": [{"key": "m", "value": 1, "step": "one"}]}, "metrics.0.step"),
    ({"metrics": [{"key": "m", "value": 1, "step": 1.5}]}, "metrics.0.step"),
    ({"metrics": [{"key": "m", "value": 1, "timestamp": -5}]}, "metrics.0.timestamp"),
    ({"metrics": [{"value": 1}]}, "metrics.0.key"),
    ({"metrics": [{"key": "", "value": 1}]}, "metrics.0.key"),
    ({"params": [{"key": "p", "value": ["a"]}]}, "params.0.value"),
    ({"tags": [{"key": "t", "value": 3}]}, "tags.0.value"),
    ({"metrics": {"key": "m"}}, "metrics"),
    ({"extra": 1}, "extra"),
]


class TestBatchValidation:
    def test_wrong_types_are_422_naming_the_field(self, client: TestClient) -> None:
        run = create_run(client)

        responses = [
            (client.post(f"{API}/runs/{run['id']}/batch", json=body), field) for body, field in WRONG_TYPES
        ]

        assert [(field, r.status_code) for r, field in responses if r.status_code != 422] == []
        for response, field in responses:
            error = error_of(response)
            assert error["code"] == "validation_failed"
            assert field in error["message"]
            assert any(item["field"].endswith(field) for item in error["details"]["errors"])
        assert get_run(client, run["id"])["metrics"] == {}

    def test_a_refused_body_names_the_field_from_the_body_down(self, client: TestClient) -> None:
        # Bodies are validated from their bytes first; a refusal must still read as FastAPI's own.
        run = create_run(client)

        response = client.post(
            f"{API}/runs/{run['id']}/batch",
            json={"metrics": [{"key": "m", "value": 1}, {"key": "m", "value": "x"}]},
        )

        assert response.status_code == 422
        errors = error_of(response)["details"]["errors"]
        assert [(e["field"], e["type"]) for e in errors] == [("body.metrics.1.value", "float_parsing")]
        assert "body.metrics.1.value" in error_of(response)["message"]

    def test_malformed_json_is_422(self, client: TestClient) -> None:
        run = create_run(client)

        response = client.post(
            f"{API}/runs/{run['id']}/batch",
            content=b'{"metrics": [{"key": "m", "value": 1}',
            headers={"content-type": "application/json"},
        )

        assert response.status_code == 422
        assert error_of(response)["code"] == "validation_failed"

    def test_more_than_100000_metrics_is_422(self, client: TestClient) -> None:
        run = create_run(client)
        metrics = [{"key": "m", "value": 1}] * 100_001

        response = client.post(f"{API}/runs/{run['id']}/batch", json={"metrics": metrics})

        assert response.status_code == 422
        assert "metrics" in error_of(response)["message"]
        assert history(client, run["id"], "m").status_code == 404

    def test_exactly_100000_metrics_is_a_valid_batch(self) -> None:
        batch = LogBatch.model_validate({"metrics": [{"key": "m", "value": 1}] * 100_000})

        assert len(batch.metrics) == 100_000


@pytest.fixture
def small_json_app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings.with_sections(http={"max_json_bytes": 2_000}), migrate=False)
    yield application
    kiln_state(application).db.dispose()


class TestJsonBodyLimit:
    def test_content_length_above_the_limit_is_413(self, small_json_app: FastAPI) -> None:
        with admin_client(small_json_app) as small:
            run = create_run(small)
            body = {"metrics": [{"key": f"metric-{i}", "value": i} for i in range(200)]}
            encoded = json.dumps(body).encode()
            assert len(encoded) > 2_000

            response = small.post(
                f"{API}/runs/{run['id']}/batch", content=encoded, headers={"content-type": "application/json"}
            )

            assert response.status_code == 413
            error = error_of(response)
            assert error["code"] == "payload_too_large"
            assert "2000" in error["message"]
            assert get_run(small, run["id"])["metrics"] == {}

    def test_chunked_body_above_the_limit_is_413(self, small_json_app: FastAPI) -> None:
        with admin_client(small_json_app) as small:
            run = create_run(small)
            chunk = json.dumps([{"key": f"metric-{i}", "value": i} for i in range(100)]).encode()

            def body() -> Iterator[bytes]:
                # No Content-Length: the limit must hold while the body streams in.
                yield b'{"metrics": '
                yield chunk
                yield b"}"

            response = small.post(
                f"{API}/runs/{run['id']}/batch", content=body(), headers={"content-type": "application/json"}
            )

            assert response.status_code == 413
            assert error_of(response)["code"] == "payload_too_large"
            assert get_run(small, run["id"])["metrics"] == {}

    @pytest.mark.parametrize("content_type", ["Application/JSON", "application/json; charset=utf-8"])
    def test_any_spelling_of_json_is_limited(self, small_json_app: FastAPI, content_type: str) -> None:
        with admin_client(small_json_app) as small:
            run = create_run(small)
            body = json.dumps({"metrics": [{"key": f"metric-{i}", "value": i} for i in range(200)]})

            response = small.post(
                f"{API}/runs/{run['id']}/batch", content=body, headers={"content-type": content_type}
            )

            assert response.status_code == 413
            assert get_run(small, run["id"])["metrics"] == {}

    def test_small_bodies_still_pass(self, small_json_app: FastAPI) -> None:
        with admin_client(small_json_app) as small:
            run = create_run(small)

            assert log_batch(small, run["id"], metrics=[{"key": "m", "value": 1}]).status_code == 200


class TestBatchBounds:
    def test_a_timestamp_past_year_9999_is_422(self, client: TestClient) -> None:
        run = create_run(client)

        response = log_batch(
            client, run["id"], metrics=[{"key": "ts", "value": 1, "timestamp": 99999999999999999999}]
        )

        assert response.status_code == 422
        assert "253402300799999" in response.text
        assert (
            log_batch(
                client, run["id"], metrics=[{"key": "ts", "value": 1, "timestamp": 253402300799999}]
            ).status_code
            == 200
        )


class TestBatchAudit:
    def test_batches_are_telemetry_and_leave_no_audit_record_or_secret(self, client: TestClient) -> None:
        run = create_run(client)
        log_batch(
            client, run["id"], params={"hf_token": "hf_secret_value"}, tags={"note": "tag_secret_value"}
        )
        log_batch(client, run["id"], metrics=[{"key": "loss", "value": 0.5, "step": 1}])

        body = client.get(f"{API}/audit", params={"target_id": run["id"]}).json()
        records = body["items"] if isinstance(body, dict) else body
        assert [record["action"] for record in records] == ["run.created"]
        assert "secret_value" not in json.dumps(records)
