"""Reading a version: the bytes verified against their sha256, the quality gate, references."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.core.errors import Invalid
from kiln.data.refs import DatasetRef, parse_ref
from tests.api import API, error_of
from tests.builders.datasets import batch, create_telemetry, upload_frame


def download(client: TestClient, version: str = "1", **params: str) -> object:
    return client.get(f"{API}/datasets/telemetry/versions/{version}/download", params=params)


class TestDownload:
    def test_the_parquet_and_csv_hold_the_accepted_rows(self, client: TestClient) -> None:
        create_telemetry(client)
        frame = batch(48, seed=1)
        version = upload_frame(client, frame)

        parquet = client.get(f"{API}/datasets/telemetry/versions/latest/download")
        as_csv = client.get(f"{API}/datasets/telemetry/versions/1/download", params={"format": "csv"})

        assert parquet.status_code == 200
        assert parquet.headers["x-checksum-sha256"] == version["content_hash"]
        rows = pd.read_parquet(io.BytesIO(parquet.content))
        assert list(rows.columns) == list(frame.columns)
        assert np.allclose(rows["latency_ms"], frame["latency_ms"])
        assert rows["link_id"].tolist() == frame["link_id"].tolist()
        assert pd.read_csv(io.StringIO(as_csv.text))["hour"].tolist() == frame["hour"].tolist()

    def test_altered_bytes_in_the_store_are_refused(self, client: TestClient, app: FastAPI) -> None:
        create_telemetry(client)
        upload_frame(client, batch(48, seed=1))
        [stored] = (Path(kiln_state(app).store.root) / "datasets").rglob("*.parquet")
        data = bytearray(stored.read_bytes())
        data[len(data) // 2] ^= 0xFF
        stored.write_bytes(bytes(data))

        response = client.get(f"{API}/datasets/telemetry/versions/1/download", params={"format": "csv"})

        assert response.status_code == 500
        error = error_of(response)
        assert error["code"] == "checksum_mismatch"
        assert "dataset 'telemetry' version 1" in error["message"]


class TestQualityGate:
    def test_a_version_that_failed_is_refused_unless_allowed(self, client: TestClient) -> None:
        create_telemetry(client)
        frame = batch(48, seed=1)
        frame.loc[frame.index[:30], "jitter_ms"] = np.nan  # 62% nulls: above the 50% limit
        version = upload_frame(client, frame)
        assert version["quality"]["passed"] is False

        refused = download(client)
        allowed = download(client, allow_failed="true")

        assert refused.status_code == 409
        error = error_of(refused)
        assert error["code"] == "dataset_quality_failed"
        assert "column `jitter_ms`: 62% nulls" in error["message"]
        assert "allow_failed" in error["message"]
        assert allowed.status_code == 200
        # Its record stays readable: the failed checks are what an owner needs to see.
        shown = client.get(f"{API}/datasets/telemetry/versions/1").json()
        assert any(
            not check["passed"] and check["column"] == "jitter_ms" for check in shown["quality"]["checks"]
        )


class TestReferences:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("dataset:telemetry@7", DatasetRef("telemetry", 7)),
            ("dataset:telemetry@latest", DatasetRef("telemetry", None)),
            ("telemetry@7", DatasetRef("telemetry", 7)),
            (" net.flows-2@12 ", DatasetRef("net.flows-2", 12)),
        ],
    )
    def test_references_parse(self, text: str, expected: DatasetRef) -> None:
        assert parse_ref(text) == expected

    @pytest.mark.parametrize(
        ("text", "says"),
        [
            ("telemetry", "names no version: add @7 or @latest"),
            ("dataset:telemetry@0", "a version is a number from 1 or 'latest'"),
            ("telemetry@v3", "a version is a number from 1 or 'latest'"),
            ("telemetry@007", "a version is a number from 1 or 'latest'"),
            ("dataset:@3", "is not a dataset reference"),
            ("a/b@3", "is not a dataset reference"),
            ("", "is not a dataset reference"),
        ],
    )
    def test_bad_references_say_how_to_write_one(self, text: str, says: str) -> None:
        with pytest.raises(Invalid, match="dataset:telemetry@7") as caught:
            parse_ref(text)
        assert says in caught.value.message

    def test_a_bad_version_in_a_path_is_a_clear_400(self, client: TestClient) -> None:
        create_telemetry(client)
        response = client.get(f"{API}/datasets/telemetry/versions/newest")
        assert response.status_code == 400
        assert "a version is a number from 1 or 'latest'" in error_of(response)["message"]
        missing = client.get(f"{API}/datasets/telemetry/versions/latest")
        assert missing.status_code == 404
        assert error_of(missing)["message"] == "dataset 'telemetry' has no versions yet"
