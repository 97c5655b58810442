"""ArtifactStore on a local folder and on a real S3 API (moto server): writes, verified reads, deletes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from kiln.core.errors import ChecksumMismatch, NotFound
from kiln.storage.store import CHUNK_SIZE, ArtifactStore


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return ArtifactStore(str(tmp_path / "artifacts"))
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return ArtifactStore(f"s3://{bucket}/prefix", {"client_kwargs": {"endpoint_url": endpoint}})


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class TestWriteAndRead:
    def test_bytes_round_trip_with_size_and_checksum(self, store: ArtifactStore) -> None:
        stored = store.put_bytes("runs/1/artifacts/a.txt", b"hello kiln")

        assert (stored.key, stored.size, stored.sha256) == ("runs/1/artifacts/a.txt", 10, sha(b"hello kiln"))
        assert store.read_verified(stored.key, sha256=stored.sha256, size=stored.size) == b"hello kiln"

    def test_multi_chunk_objects_stream_in_chunks(self, store: ArtifactStore) -> None:
        data = os.urandom(2 * CHUNK_SIZE + 123)
        stored = store.put_bytes("big.bin", data)

        chunks = list(store.iter_verified("big.bin", sha256=stored.sha256, size=stored.size))

        assert len(chunks) == 3
        assert all(len(chunk) <= CHUNK_SIZE for chunk in chunks)
        assert b"".join(chunks) == data

    def test_put_file_copies_a_local_file(self, store: ArtifactStore, tmp_path: Path) -> None:
        source = tmp_path / "source.bin"
        source.write_bytes(b"payload")

        store.put_file(str(source), "nested/deeper/file.bin", size=7, sha256=sha(b"payload"))

        assert store.read_verified("nested/deeper/file.bin", sha256=sha(b"payload"), size=7) == b"payload"

    def test_overwrite_replaces_the_bytes(self, store: ArtifactStore) -> None:
        store.put_bytes("k", b"old")
        new = store.put_bytes("k", b"newer")

        assert store.read_verified("k", sha256=new.sha256, size=new.size) == b"newer"

    def test_empty_object(self, store: ArtifactStore) -> None:
        stored = store.put_bytes("empty", b"")

        assert store.read_verified("empty", sha256=stored.sha256, size=0) == b""

    def test_url_for_names_the_object_under_the_root(self, store: ArtifactStore) -> None:
        assert store.url_for("runs/1/x") == f"{store.root_url.rstrip('/')}/runs/1/x"


class TestVerifiedReads:
    def test_wrong_checksum_raises(self, store: ArtifactStore) -> None:
        store.put_bytes("k", b"data")

        with pytest.raises(ChecksumMismatch, match="'k'"):
            store.read_verified("k", sha256=sha(b"other"), size=4)

    def test_wrong_size_raises(self, store: ArtifactStore) -> None:
        stored = store.put_bytes("k", b"data")

        with pytest.raises(ChecksumMismatch):
            store.read_verified("k", sha256=stored.sha256, size=5)

    def test_altered_object_never_yields_its_last_chunk(self, store: ArtifactStore) -> None:
        data = os.urandom(CHUNK_SIZE + 10)
        stored = store.put_bytes("k", data)
        # Flip the last byte's bits: a random last byte may already be any chosen value.
        store.put_bytes("k", data[:-1] + bytes([data[-1] ^ 0xFF]))
        received: list[bytes] = []

        with pytest.raises(ChecksumMismatch):
            received.extend(store.iter_verified("k", sha256=stored.sha256, size=stored.size))

        # Whatever arrived before the failure is shorter than the object: a reader cannot mistake it.
        assert sum(len(chunk) for chunk in received) < stored.size

    def test_grown_object_fails_without_yielding_extra_bytes(self, store: ArtifactStore) -> None:
        stored = store.put_bytes("k", b"a" * 100)
        store.put_bytes("k", b"a" * 100 + b"more")
        received: list[bytes] = []

        with pytest.raises(ChecksumMismatch):
            received.extend(store.iter_verified("k", sha256=stored.sha256, size=stored.size))

        assert sum(len(chunk) for chunk in received) <= stored.size

    def test_missing_object_is_not_found_before_streaming(self, store: ArtifactStore) -> None:
        with pytest.raises(NotFound, match="missing from the store"):
            store.iter_verified("never/written", sha256=sha(b""), size=0)


class TestDeletePrefix:
    def test_removes_only_that_prefix(self, store: ArtifactStore) -> None:
        store.put_bytes("runs/1/artifacts/a", b"a")
        store.put_bytes("runs/1/artifacts/sub/b", b"b")
        kept = store.put_bytes("runs/2/artifacts/a", b"c")

        store.delete_prefix("runs/1")

        with pytest.raises(NotFound):
            store.iter_verified("runs/1/artifacts/a", sha256=sha(b"a"), size=1)
        assert store.read_verified(kept.key, sha256=kept.sha256, size=1) == b"c"

    def test_missing_prefix_is_fine(self, store: ArtifactStore) -> None:
        store.delete_prefix("runs/never")


class TestLocalStore:
    def test_creates_its_root(self, tmp_path: Path) -> None:
        ArtifactStore(str(tmp_path / "new" / "root"))

        assert (tmp_path / "new" / "root").is_dir()

    def test_leaves_no_partial_files(self, tmp_path: Path) -> None:
        store = ArtifactStore(str(tmp_path / "root"))

        store.put_bytes("a/b.bin", os.urandom(1000))
        store.put_bytes("a/b.bin", os.urandom(1000))

        assert sorted(p.name for p in (tmp_path / "root").rglob("*") if p.is_file()) == ["b.bin"]

    def test_a_failed_write_leaves_no_partial_file(self, tmp_path: Path) -> None:
        store = ArtifactStore(str(tmp_path / "root"))
        (tmp_path / "root" / "a" / "taken").mkdir(parents=True)  # a folder where the object should go

        with pytest.raises(IsADirectoryError):
            store.put_bytes("a/taken", b"bytes")

        assert [p for p in (tmp_path / "root").rglob("*") if p.is_file()] == []

    def test_delete_removes_one_object_and_tolerates_a_missing_one(self, store: ArtifactStore) -> None:
        store.put_bytes("k/one", b"1")
        kept = store.put_bytes("k/two", b"2")

        store.delete("k/one")
        store.delete("k/one")

        with pytest.raises(NotFound):
            store.read_verified("k/one", sha256=sha(b"1"), size=1)
        assert store.read_verified("k/two", sha256=kept.sha256, size=1) == b"2"


def _objects(s3_client: Any, bucket: str) -> dict[str, bytes]:
    listed = s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        item["Key"]: s3_client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() for item in listed
    }


@pytest.mark.s3
class TestS3Layout:
    def test_objects_live_under_the_root_prefix(
        self, s3_endpoint: str, s3_bucket: str, s3_client: Any
    ) -> None:
        store = ArtifactStore(f"s3://{s3_bucket}/team/kiln", {"client_kwargs": {"endpoint_url": s3_endpoint}})

        store.put_bytes("runs/7/artifacts/model.skops", b"weights")

        assert _objects(s3_client, s3_bucket) == {"team/kiln/runs/7/artifacts/model.skops": b"weights"}

    def test_object_changed_behind_the_store_is_detected(
        self, s3_endpoint: str, s3_bucket: str, s3_client: Any
    ) -> None:
        store = ArtifactStore(f"s3://{s3_bucket}/p", {"client_kwargs": {"endpoint_url": s3_endpoint}})
        stored = store.put_bytes("k", b"trusted")

        s3_client.put_object(Bucket=s3_bucket, Key="p/k", Body=b"Trusted")

        with pytest.raises(ChecksumMismatch):
            store.read_verified("k", sha256=stored.sha256, size=stored.size)
