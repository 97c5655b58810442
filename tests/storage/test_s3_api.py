"""Artifacts through the HTTP API with an S3 artifact root (moto's real S3 API)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import create_app, kiln_state
from kiln.core.settings import Settings
from tests.api import error_of
from tests.builders.auth import admin_client
from tests.live_server import serve
from tests.tracking.api import API, create_run, finish_run
from tests.tracking.stored import object_key

pytestmark = pytest.mark.s3

MiB = 1024 * 1024


@pytest.fixture
def s3_app(settings: Settings, s3_endpoint: str, s3_bucket: str) -> Iterator[FastAPI]:
    s3_settings = settings.with_sections(
        storage={"artifact_root": f"s3://{s3_bucket}/prefix", "s3_endpoint_url": s3_endpoint}
    )
    application = create_app(s3_settings, migrate=False)
    yield application
    kiln_state(application).db.dispose()


@pytest.fixture
def s3_api(s3_app: FastAPI) -> Iterator[TestClient]:
    with admin_client(s3_app) as client:
        yield client


def bucket_key(app: FastAPI, run_id: str, path: str) -> str:
    return f"prefix/{object_key(kiln_state(app).db, run_id, path)}"


class TestS3Artifacts:
    def test_round_trip_and_object_in_the_bucket(
        self, s3_app: FastAPI, s3_api: TestClient, s3_bucket: str, s3_client: Any
    ) -> None:
        run = create_run(s3_api)
        data = os.urandom(2 * MiB + 99)
        digest = hashlib.sha256(data).hexdigest()

        response = s3_api.put(f"{API}/runs/{run['id']}/artifacts/model/weights.bin", content=data)

        assert response.status_code == 201, response.text
        assert response.json()["sha256"] == digest
        assert run["artifact_uri"] == f"s3://{s3_bucket}/prefix/runs/{run['id']}/artifacts"
        [entry] = s3_api.get(f"{API}/runs/{run['id']}/artifacts").json()
        assert (entry["path"], entry["size"], entry["sha256"]) == ("model/weights.bin", len(data), digest)
        download = s3_api.get(f"{API}/runs/{run['id']}/artifacts/model/weights.bin")
        assert download.status_code == 200
        assert download.content == data
        assert download.headers["x-checksum-sha256"] == digest
        stored = s3_client.get_object(
            Bucket=s3_bucket, Key=bucket_key(s3_app, run["id"], "model/weights.bin")
        )
        assert stored["Body"].read() == data

    def test_chunked_upload(
        self, s3_app: FastAPI, s3_api: TestClient, s3_bucket: str, s3_client: Any
    ) -> None:
        run = create_run(s3_api)
        parts = [os.urandom(300_000) for _ in range(4)]

        response = s3_api.put(f"{API}/runs/{run['id']}/artifacts/data.bin", content=iter(parts))

        assert response.status_code == 201
        assert response.json()["sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()
        head = s3_client.head_object(Bucket=s3_bucket, Key=bucket_key(s3_app, run["id"], "data.bin"))
        assert head["ContentLength"] == 1_200_000

    def test_overwrite_updates_object_and_checksum(
        self, s3_app: FastAPI, s3_api: TestClient, s3_bucket: str, s3_client: Any
    ) -> None:
        run = create_run(s3_api)
        s3_api.put(f"{API}/runs/{run['id']}/artifacts/notes.txt", content=b"v1")

        s3_api.put(f"{API}/runs/{run['id']}/artifacts/notes.txt", content=b"version 2")

        download = s3_api.get(f"{API}/runs/{run['id']}/artifacts/notes.txt")
        assert download.content == b"version 2"
        assert download.headers["x-checksum-sha256"] == hashlib.sha256(b"version 2").hexdigest()
        key = bucket_key(s3_app, run["id"], "notes.txt")
        assert s3_client.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == b"version 2"
        # The replaced version's object is deleted once the new one is recorded.
        listed = s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]
        assert [item["Key"] for item in listed] == [key]

    def test_refusals_write_no_object(self, s3_api: TestClient, s3_bucket: str, s3_client: Any) -> None:
        run = create_run(s3_api)

        traversal = s3_api.put(f"{API}/runs/{run['id']}/artifacts/%2e%2e/%2e%2e/escape", content=b"x")
        too_large = s3_api.put(
            f"{API}/runs/{run['id']}/artifacts/big", content=(b"x" * MiB for _ in range(6))
        )
        finish_run(s3_api, run["id"])
        finished = s3_api.put(f"{API}/runs/{run['id']}/artifacts/late", content=b"x")

        assert (traversal.status_code, too_large.status_code, finished.status_code) == (400, 413, 409)
        assert s3_client.list_objects_v2(Bucket=s3_bucket).get("KeyCount", 0) == 0

    def test_unknown_artifact_is_404(self, s3_api: TestClient) -> None:
        run = create_run(s3_api)

        response = s3_api.get(f"{API}/runs/{run['id']}/artifacts/none.bin")

        assert response.status_code == 404
        assert "none.bin" in error_of(response)["message"]

    def test_object_deleted_from_the_bucket_is_reported(
        self, s3_app: FastAPI, s3_api: TestClient, s3_bucket: str, s3_client: Any
    ) -> None:
        run = create_run(s3_api)
        s3_api.put(f"{API}/runs/{run['id']}/artifacts/gone.bin", content=b"soon gone")
        s3_client.delete_object(Bucket=s3_bucket, Key=bucket_key(s3_app, run["id"], "gone.bin"))

        response = s3_api.get(f"{API}/runs/{run['id']}/artifacts/gone.bin")

        assert response.status_code == 404
        assert "missing from the store" in error_of(response)["message"]

    def test_object_altered_in_the_bucket_never_downloads_whole(
        self, s3_app: FastAPI, s3_api: TestClient, s3_bucket: str, s3_client: Any
    ) -> None:
        with serve(s3_app) as url, httpx.Client(base_url=url, timeout=20, headers=s3_api.headers) as live:
            run = create_run(live)
            live.put(f"{API}/runs/{run['id']}/artifacts/model.bin", content=b"the real model")
            s3_client.put_object(
                Bucket=s3_bucket, Key=bucket_key(s3_app, run["id"], "model.bin"), Body=b"the fake model"
            )

            with pytest.raises(httpx.RemoteProtocolError):
                live.get(f"{API}/runs/{run['id']}/artifacts/model.bin")

    def test_readiness_checks_the_bucket(self, s3_api: TestClient) -> None:
        assert s3_api.get("/readyz").json() == {"status": "ready"}
