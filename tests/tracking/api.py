"""Small HTTP calls the tracking tests repeat: create things through the public API and read them back."""

from __future__ import annotations

import math
from typing import Any

from httpx import Client

from tests.api import API
from tests.builders import unique


def create_experiment(client: Client, name: str | None = None, **fields: Any) -> dict[str, Any]:
    response = client.post(f"{API}/experiments", json={"name": name or unique("exp"), **fields})
    assert response.status_code == 201, response.text
    return response.json()


def create_run(
    client: Client, experiment_id: str | None = None, *, headers: dict[str, str] | None = None, **fields: Any
) -> dict[str, Any]:
    experiment_id = experiment_id or create_experiment(client)["id"]
    response = client.post(f"{API}/runs", json={"experiment_id": experiment_id, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def log_batch(
    client: Client,
    run_id: str,
    *,
    metrics: list[dict[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> Any:
    """POST a batch; returns the raw response so callers can assert refusals too."""
    body = {
        "metrics": metrics or [],
        "params": [{"key": k, "value": v} for k, v in (params or {}).items()],
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
    }
    return client.post(f"{API}/runs/{run_id}/batch", json=body)


def finish_run(client: Client, run_id: str, status: str = "finished") -> dict[str, Any]:
    response = client.patch(f"{API}/runs/{run_id}", json={"status": status})
    assert response.status_code == 200, response.text
    return response.json()


def get_run(client: Client, run_id: str) -> dict[str, Any]:
    response = client.get(f"{API}/runs/{run_id}")
    assert response.status_code == 200, response.text
    return response.json()


def history(client: Client, run_id: str, key: str, **query: Any) -> Any:
    return client.get(f"{API}/runs/{run_id}/metrics/history", params={"key": key, **query})


def wire_float(value: Any) -> float:
    """Read a float as the API sends it: numbers, or the strings NaN / Infinity / -Infinity."""
    if isinstance(value, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
    return float(value)
