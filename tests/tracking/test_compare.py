"""Comparing runs side by side, and the recipe to reproduce one."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kiln.tracking.compare import lower_is_better
from tests.api import error_of
from tests.tracking.api import API, create_experiment, create_run, log_batch


def compare(client: TestClient, *ids: str) -> object:
    return client.get(f"{API}/runs/compare", params={"ids": ",".join(ids)})


def run_with(
    client: TestClient, experiment_id: str, metrics: dict[str, float], params: dict[str, str]
) -> str:
    run = create_run(client, experiment_id)
    log_batch(client, run["id"], metrics=[{"key": k, "value": v} for k, v in metrics.items()], params=params)
    return str(run["id"])


class TestCompareRuns:
    def test_reports_differing_params_and_the_best_run_per_metric(self, client: TestClient) -> None:
        experiment = create_experiment(client)["id"]
        a = run_with(client, experiment, {"accuracy": 0.91, "val_loss": 0.40}, {"C": "1.0", "kernel": "rbf"})
        b = run_with(client, experiment, {"accuracy": 0.87, "val_loss": 0.20}, {"C": "0.1", "kernel": "rbf"})
        c = run_with(client, experiment, {"accuracy": 0.89}, {"C": "1.0", "kernel": "rbf", "seed": "7"})

        response = compare(client, a, b, c)

        assert response.status_code == 200
        body = response.json()
        assert [run["id"] for run in body["runs"]] == [a, b, c]
        assert body["param_keys"] == ["C", "kernel", "seed"]
        assert body["metric_keys"] == ["accuracy", "val_loss"]
        assert body["differing_params"] == ["C", "seed"]
        assert body["best_by_metric"] == {"accuracy": a, "val_loss": b}

    def test_nan_never_wins(self, client: TestClient) -> None:
        experiment = create_experiment(client)["id"]
        a = run_with(client, experiment, {"loss": 0.5}, {})
        b = create_run(client, experiment)["id"]
        log_batch(client, b, metrics=[{"key": "loss", "value": "NaN"}])

        body = compare(client, a, b).json()

        assert body["best_by_metric"] == {"loss": a}
        assert body["runs"][1]["metrics"] == {"loss": "NaN"}

    def test_duplicate_ids_are_ignored(self, client: TestClient) -> None:
        experiment = create_experiment(client)["id"]
        a = run_with(client, experiment, {"acc": 0.5}, {})
        b = run_with(client, experiment, {"acc": 0.6}, {})

        body = compare(client, a, b, a, b, a).json()

        assert [run["id"] for run in body["runs"]] == [a, b]

    def test_unknown_ids_are_404_listing_every_missing_one(self, client: TestClient) -> None:
        a = create_run(client)["id"]

        response = compare(client, a, "ghost-1", "ghost-2")

        assert response.status_code == 404
        error = error_of(response)
        assert "ghost-1" in error["message"]
        assert "ghost-2" in error["message"]
        assert error["details"] == {"missing": ["ghost-1", "ghost-2"]}

    def test_too_many_ids_is_400(self, client: TestClient) -> None:
        response = compare(client, *(f"id-{i}" for i in range(51)))

        assert response.status_code == 400
        assert "50" in error_of(response)["message"]

    def test_no_ids_is_400(self, client: TestClient) -> None:
        assert compare(client, " ", "").status_code == 400
        assert client.get(f"{API}/runs/compare").status_code == 422


class TestWhichDirectionIsBetter:
    @pytest.mark.parametrize("key", ["loss", "val_loss", "rmse", "error_rate", "latency_ms", "perplexity"])
    def test_lower_is_better(self, key: str) -> None:
        assert lower_is_better(key)

    @pytest.mark.parametrize("key", ["accuracy", "f1", "auc", "precision", "recall", "r2"])
    def test_higher_is_better(self, key: str) -> None:
        assert not lower_is_better(key)


class TestReproduce:
    def test_returns_what_was_sent_at_creation(self, client: TestClient) -> None:
        experiment = create_experiment(client, "churn-model")
        environment = {
            "command": ["python", "train.py", "--epochs", "3"],
            "git": {"commit": "abc123", "branch": "main", "dirty": False},
            "python": "3.12.1",
            "platform": "Linux-6.1-x86_64",
            "packages": {"scikit-learn": "1.5.2", "numpy": "2.1.0"},
        }
        run = create_run(
            client,
            experiment["id"],
            name="baseline",
            source="train.py",
            environment=environment,
            inputs=[
                {
                    "kind": "dataset",
                    "name": "customers",
                    "version": "4",
                    "digest": "sha256:ff",
                    "uri": "s3://d",
                }
            ],
        )
        log_batch(client, run["id"], params={"epochs": 3, "lr": "0.01"})

        response = client.get(f"{API}/runs/{run['id']}/reproduce")

        assert response.status_code == 200
        body = response.json()
        assert "git checkout abc123\n" in body["script"]
        assert body["requirements"].endswith("numpy==2.1.0\nscikit-learn==1.5.2\n")
        assert {key: value for key, value in body.items() if key not in ("script", "requirements")} == {
            "run_id": run["id"],
            "run_name": "baseline",
            "experiment": "churn-model",
            "params": {"epochs": "3", "lr": "0.01"},
            "inputs": [
                {
                    "kind": "dataset",
                    "name": "customers",
                    "version": "4",
                    "digest": "sha256:ff",
                    "uri": "s3://d",
                }
            ],
            "source": "train.py",
            "command": ["python", "train.py", "--epochs", "3"],
            "git": {"commit": "abc123", "branch": "main", "dirty": False},
            "python": "3.12.1",
            "platform": "Linux-6.1-x86_64",
            "packages": {"scikit-learn": "1.5.2", "numpy": "2.1.0"},
            "warnings": [],
        }

    def test_a_run_without_environment_gives_empty_fields(self, client: TestClient) -> None:
        run = create_run(client)

        body = client.get(f"{API}/runs/{run['id']}/reproduce").json()

        assert (body["command"], body["git"], body["packages"], body["python"]) == ([], {}, {}, "")
