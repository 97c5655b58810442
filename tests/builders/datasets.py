"""Datasets over HTTP: the telemetry dataset created, its batches as CSV or Parquet bytes, uploads."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from tests.api import API
from tests.builders.telemetry import generate_telemetry, telemetry_rules, telemetry_schema


def telemetry_body(name: str = "telemetry", **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": "link readings",
        "schema": telemetry_schema().model_dump(mode="json"),
        "rules": telemetry_rules().model_dump(mode="json"),
        **overrides,
    }


def create_telemetry(client: TestClient, name: str = "telemetry", **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{API}/datasets", json=telemetry_body(name, **overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def batch(rows: int = 48, *, seed: int = 0, **options: Any) -> pd.DataFrame:
    return generate_telemetry(rows, seed=seed, **options)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def upload(client: TestClient, content: bytes, filename: str = "batch.csv", name: str = "telemetry") -> Any:
    return client.post(f"{API}/datasets/{name}/versions", files={"file": (filename, content)})


def upload_frame(client: TestClient, frame: pd.DataFrame, name: str = "telemetry") -> dict[str, Any]:
    response = upload(client, csv_bytes(frame), name=name)
    assert response.status_code in (200, 201), response.text
    uploaded: dict[str, Any] = response.json()
    return uploaded


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as the JSON records an appender posts (timestamps as ISO 8601 text)."""
    from kiln.data.records import to_records

    return to_records(frame)


def append(client: TestClient, records: list[dict[str, Any]], name: str = "telemetry") -> Any:
    return client.post(f"{API}/datasets/{name}/records", json={"records": records})


def append_frame(client: TestClient, frame: pd.DataFrame, name: str = "telemetry") -> dict[str, Any]:
    response = append(client, records_of(frame), name=name)
    assert response.status_code == 201, response.text
    appended: dict[str, Any] = response.json()
    return appended


def commit(client: TestClient, name: str = "telemetry") -> Any:
    return client.post(f"{API}/datasets/{name}/versions/commit")
