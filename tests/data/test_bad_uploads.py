"""Bad files get a 4xx that says what to fix, and leave no version and nothing in the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import KilnSettings, create_app, kiln_state
from tests.api import API, error_of
from tests.builders.auth import make_user_token
from tests.builders.datasets import batch, create_telemetry, csv_bytes, parquet_bytes, upload


def nothing_stored(client: TestClient, app: FastAPI) -> None:
    assert client.get(f"{API}/datasets/telemetry/versions").json()["items"] == []
    root = Path(kiln_state(app).store.root) / "datasets"
    assert not root.exists() or not any(path.is_file() for path in root.rglob("*"))


@pytest.mark.parametrize(
    ("content", "filename", "status", "says"),
    [
        (b"", "empty.csv", 422, "'empty.csv' is empty"),
        (b"ts,site\n", "header.csv", 422, "has a header but no rows"),
        (b'ts,site\n"2026-01-05,ams\n', "broken.csv", 422, "is not well-formed CSV"),
        (b"\xff\xfe\x00t\x00s", "utf16.csv", 415, "holds binary data"),
        (b"ts,site\nx,y\n", "batch.xlsx", 415, "upload a .csv or .parquet file"),
        (b"ts,site\nx,y\n", "batch.parquet", 415, "is not a Parquet file"),
        (b"PAR1 truncated PAR1", "cut.parquet", 422, "is not a readable Parquet file"),
        (
            b"ts,site\n2026-01-05,ams\n",
            "narrow.csv",
            422,
            "column `link_id` is declared in the schema but missing",
        ),
    ],
)
def test_a_bad_file_is_refused_clearly(
    client: TestClient, app: FastAPI, content: bytes, filename: str, status: int, says: str
) -> None:
    create_telemetry(client)
    response = upload(client, content, filename)
    assert response.status_code == status, response.text
    assert says in error_of(response)["message"]
    nothing_stored(client, app)


def test_a_parquet_file_named_csv_is_refused(client: TestClient, app: FastAPI) -> None:
    create_telemetry(client)
    response = upload(client, parquet_bytes(batch(24)), "batch.csv")
    assert response.status_code == 415
    assert "it is a Parquet file: name it .parquet" in error_of(response)["message"]
    nothing_stored(client, app)


def test_a_column_of_the_wrong_type_names_it(client: TestClient, app: FastAPI) -> None:
    create_telemetry(client)
    frame = batch(24).astype({"latency_ms": "str"})
    frame["latency_ms"] = "slow"
    response = upload(client, csv_bytes(frame))
    assert response.status_code == 422
    assert "latency_ms" in error_of(response)["message"]
    nothing_stored(client, app)


def test_a_file_over_the_limit_is_413(settings: KilnSettings) -> None:
    small = settings.with_sections(http={"max_upload_bytes": 2_000})
    app = create_app(small, migrate=False)
    try:
        token = make_user_token(app, "admin@kiln.test", role="admin")
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
            create_telemetry(client)
            response = upload(client, csv_bytes(batch(200)))
            assert response.status_code == 413
            assert "KILN_MAX_UPLOAD_BYTES" in error_of(response)["message"]
            nothing_stored(client, app)
    finally:
        kiln_state(app).db.dispose()
