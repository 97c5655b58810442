"""Stored bytes are verified on the way out; a failed registration leaves no objects; downloads are whole."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from structlog.testing import capture_logs

from kiln.core.errors import ChecksumMismatch
from kiln.registry.files import materialize_version
from kiln.registry.models import ModelVersion
from kiln.storage.store import ArtifactStore
from tests.api import API, error_of
from tests.builders.registry import make_version_from_run
from tests.registry.conftest import Committed, model_objects


class Boom(Exception):
    pass


def test_bytes_changed_on_disk_are_refused_naming_the_file(
    committed: Committed, store: ArtifactStore, tmp_path: Path
) -> None:
    with committed() as session:
        version = make_version_from_run(session, store)
        target = Path(store.root) / version.storage_prefix / "model.skops"
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
        with capture_logs() as logs, pytest.raises(ChecksumMismatch, match=r"'model\.skops'"):
            materialize_version(store, version, tmp_path / "out")
    assert any(
        entry["event"] == "security.checksum_mismatch" and entry["file"] == "model.skops" for entry in logs
    )
    assert not (tmp_path / "out" / "model.skops").exists()


def test_an_intact_version_materializes_as_a_model_folder(
    committed: Committed, store: ArtifactStore, tmp_path: Path
) -> None:
    with committed() as session:
        version = make_version_from_run(session, store)
        folder = materialize_version(store, version, tmp_path / "out")
    assert sorted(path.name for path in folder.iterdir()) == [
        "example-answer.json",  # the model's answer to its example: serving's proof of its matrix twin
        "kiln-model.json",
        "model.skops",
        "reference-sample.json",  # the training inputs' sample monitoring compares served inputs with
    ]


def test_a_registration_whose_transaction_fails_leaves_no_objects(
    committed: Committed, store: ArtifactStore
) -> None:
    copied: list[str] = []

    def register_then_fail() -> None:
        with committed() as session:
            make_version_from_run(session, store)
            copied.extend(model_objects(store))
            raise Boom

    with pytest.raises(Boom):
        register_then_fail()
    assert len(copied) == 3  # the payload, the reference sample and the example's answer
    assert model_objects(store) == []


def test_a_download_is_a_zip_of_the_whole_folder(
    client: TestClient, committed: Committed, store: ArtifactStore
) -> None:
    with committed() as session:
        make_version_from_run(session, store, label="1.0.0")
    response = client.get(f"{API}/models/fraud_detector/versions/1.0.0/download")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == [
            "example-answer.json",
            "kiln-model.json",
            "model.skops",
            "reference-sample.json",
        ]
    one = client.get(f"{API}/models/fraud_detector/versions/1/files/model.skops")
    assert one.status_code == 200
    files = client.get(f"{API}/models/fraud_detector/versions/1").json()["files"]
    assert one.headers["x-checksum-sha256"] == next(f["sha256"] for f in files if f["path"] == "model.skops")
    missing = client.get(f"{API}/models/fraud_detector/versions/1/files/other.bin")
    assert missing.status_code == 404


def test_a_download_of_altered_bytes_fails(
    client: TestClient, committed: Committed, store: ArtifactStore
) -> None:
    with committed() as session:
        version = make_version_from_run(session, store)
        (Path(store.root) / version.storage_prefix / "model.skops").write_bytes(b"altered")
    from tests.builders.auth import api

    with api(client.app, client.headers["Authorization"].removeprefix("Bearer ")) as raw:  # type: ignore[arg-type]
        response = raw.get(f"{API}/models/fraud_detector/versions/1/download")
    assert response.status_code == 500
    assert error_of(response)["code"] == "checksum_mismatch"
    assert "'model.skops'" in error_of(response)["message"]


def test_the_signature_is_editable_only_in_development(
    client: TestClient, committed: Committed, store: ArtifactStore
) -> None:
    with committed() as session:
        version = make_version_from_run(session, store)
    signature = {"inputs": [{"name": "amount", "minimum": 0}, {"name": "hour"}, {"name": "distance"}]}
    edited = client.patch(f"{API}/models/fraud_detector/versions/1", json={"signature": signature})
    assert edited.status_code == 200
    assert edited.json()["signature"]["inputs"][0]["minimum"] == 0
    with committed() as session:  # what a promotion (lifecycle) does to the row
        session.execute(update(ModelVersion).where(ModelVersion.id == version.id).values(stage="staging"))
    refused = client.patch(f"{API}/models/fraud_detector/versions/1", json={"signature": signature})
    assert refused.status_code == 409
    assert "only change in development" in error_of(refused)["message"]
    described = client.patch(f"{API}/models/fraud_detector/versions/1", json={"description": "still fine"})
    assert described.status_code == 200
