"""The shared upload path: spool with a limit, hash, and store every upload under a key of its own."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.from_thread
import pytest

from kiln.core.errors import PayloadTooLarge
from kiln.storage.store import ArtifactStore, StoredObject
from kiln.storage.uploads import SpooledUpload, check_declared_size, store_upload


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def upload(store: ArtifactStore, *parts: bytes, max_bytes: int = 100) -> StoredObject:
    async def go() -> StoredObject:
        return await store_upload(store, chunks_of(*parts), prefix="runs/r/objects", max_bytes=max_bytes)

    # A portal runs the loop in a thread of its own: a Playwright test earlier in the same
    # worker may have left the main thread's loop running.
    with anyio.from_thread.start_blocking_portal() as portal:
        return portal.call(go)


class TestStoreUpload:
    def test_returns_a_new_key_with_size_and_checksum(self, tmp_path: Path) -> None:
        store = ArtifactStore(str(tmp_path / "root"))

        first = upload(store, b"abc", b"def")
        second = upload(store, b"abc", b"def")

        assert first.key.startswith("runs/r/objects/")
        assert first.key != second.key  # the same bytes twice: still two objects, never one overwritten
        assert (first.size, first.sha256) == (6, sha(b"abcdef"))
        assert store.read_verified(first.key, sha256=first.sha256, size=6) == b"abcdef"

    def test_a_refused_upload_stores_nothing(self, tmp_path: Path) -> None:
        store = ArtifactStore(str(tmp_path / "root"))

        with pytest.raises(PayloadTooLarge):
            upload(store, b"12345", b"6", max_bytes=5)

        assert [p for p in (tmp_path / "root").rglob("*") if p.is_file()] == []

    def test_an_announced_size_above_the_limit_is_refused_before_reading(self) -> None:
        check_declared_size("5", 5)
        check_declared_size(None, 5)
        with pytest.raises(PayloadTooLarge, match="upload of 6 bytes exceeds the limit of 5 bytes"):
            check_declared_size("6", 5)


class TestSpooledUpload:
    def test_counts_and_hashes_what_it_spools(self) -> None:
        spooled = SpooledUpload(max_bytes=100)
        try:
            spooled.write(b"abc")
            spooled.write(b"def")

            assert spooled.size == 6
            assert spooled.sha256 == sha(b"abcdef")
        finally:
            spooled.close()
        assert not os.path.exists(spooled.path)

    def test_refuses_bytes_beyond_the_limit(self) -> None:
        spooled = SpooledUpload(max_bytes=5)
        try:
            spooled.write(b"12345")
            with pytest.raises(PayloadTooLarge) as refused:
                spooled.write(b"6")
            assert refused.value.details == {"limit_bytes": 5}
        finally:
            spooled.close()
